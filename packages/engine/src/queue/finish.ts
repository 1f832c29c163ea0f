import type { Kysely, Transaction } from "kysely";
import { nowIso } from "@sailfin/contract";
import { appendEvent, type Database } from "@sailfin/store";
import { RUN_OBJECT, type Lease } from "./lease.js";
import type { OnRunEnded } from "./run-ending.js";

/** What a successful run leaves besides its state. */
interface CompletionOptions {
  /** The run's JSON outcome (`runs.result`: compression sizes, evaluation units …), written by the fenced update itself. */
  readonly result?: unknown;
  /** Runs inside the same transaction after the fence held (a publish marks its model version Ready there). */
  readonly extra?: (trx: Transaction<Database>) => Promise<void>;
}

/**
 * Ends a leased run as Succeeded (`completeRun`) or Cancelled (`cancelRun`, after a requested
 * stop), in one fenced transaction with its event. Returns false (and changes nothing) when the
 * lease was lost.
 */
async function finish(
  db: Kysely<Database>, lease: Lease, to: "Succeeded" | "Cancelled", reason: string, options: CompletionOptions = {},
): Promise<boolean> {
  const { result: outcome, extra } = options;
  return db.transaction().execute(async (trx) => {
    const now = nowIso();
    const result = await trx.updateTable("runs")
      .set({
        status: to, finished_at: now, lease_owner: null, lease_token: null, lease_expires_at: null,
        ...(to === "Succeeded" ? { progress: 100, failure_kind: null, failure_reason: null } : {}),
        ...(outcome === undefined ? {} : { result: JSON.stringify(outcome) }),
      })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running")
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: lease.runId, actor: lease.owner, from: "Running", to, reason });
    if (extra !== undefined) await extra(trx);
    return true;
  });
}

/** Running → Succeeded (fenced). @example await completeRun(db, lease, "training finished at step 40") */
export function completeRun(db: Kysely<Database>, lease: Lease, reason: string, options: CompletionOptions = {}): Promise<boolean> {
  return finish(db, lease, "Succeeded", reason, options);
}

/**
 * Running → Cancelled after a requested stop (fenced); `onEnded` settles what the run was making
 * in the same transaction.
 *
 * @example await cancelRun(db, lease, "stopped at step 12", settleEndedRun)
 */
export function cancelRun(db: Kysely<Database>, lease: Lease, reason: string, onEnded: OnRunEnded): Promise<boolean> {
  return finish(db, lease, "Cancelled", reason, {
    extra: (trx) => onEnded(trx, { kind: lease.kind, spec: lease.row.spec }, { status: "Cancelled", reason }),
  });
}
