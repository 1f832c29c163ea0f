import { sql, type Kysely } from "kysely";
import { nowIso } from "@sailfin/contract";
import { appendEvent, type Database, type Db } from "@sailfin/store";
import { RUN_OBJECT, type Lease } from "./lease.js";
import { checkpointStep } from "./request-pause.js";

/**
 * Where a run its worker hands back goes: Paused when a pause was asked for it (so a drain, a
 * cluster requeue, a retried failure or an expired lease never loses a pause), else Queued. SET
 * expressions read the row as it was before the update (both dialects), so the statement that uses
 * this also sets `pause_requested = 0`.
 */
export const QUEUED_OR_PAUSED = sql<"Queued" | "Paused">`case when pause_requested <> 0 then 'Paused' else 'Queued' end`;

/** The event reason of a run handed back as `to`: a pause says the step it resumes from. */
export async function handBackReason(db: Db, runNum: number, to: string, reason: string): Promise<string> {
  return to === "Paused" ? `${reason}; paused at step ${await checkpointStep(db, runNum)}` : reason;
}

interface PauseLeasedResult {
  /** False when the lease was lost or a stop was asked meanwhile (nothing changed). */
  readonly applied: boolean;
  /** `Paused`; `Queued` when the pause was withdrawn (resumed) after the worker had stopped the process. */
  readonly status: "Paused" | "Queued" | null;
  /** True when a stop was asked too: the caller records Cancelled instead (`cancelRun`). */
  readonly cancelRequested: boolean;
}

/**
 * Records a run its worker stopped for a pause as Paused, WITHOUT counting the attempt (`attempt -
 * 1`, as `releaseRun`): lease and slot freed, `pause_requested` cleared, the event saying the
 * checkpoint step it resumes from ("paused at step 12"). Fenced by the lease. A stop asked
 * meanwhile wins (nothing changes; `cancelRequested`); a pause withdrawn meanwhile sends the run
 * back to the queue instead, available now.
 *
 * @example const paused = await pauseLeasedRun(db, lease); if (paused.cancelRequested) await cancelRun(…)
 */
export async function pauseLeasedRun(db: Kysely<Database>, lease: Lease): Promise<PauseLeasedResult> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.updateTable("runs")
      .set({
        status: QUEUED_OR_PAUSED, pause_requested: 0, available_at: nowIso(),
        lease_owner: null, lease_token: null, lease_expires_at: null, attempt: sql<number>`attempt - 1`,
      })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").where("cancel_requested", "=", 0)
      .returning(["status"]).executeTakeFirst();
    if (row === undefined) {
      const held = await trx.selectFrom("runs").select("cancel_requested")
        .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").executeTakeFirst();
      return { applied: false, status: null, cancelRequested: held !== undefined && Number(held.cancel_requested) !== 0 };
    }
    const to = row.status as "Paused" | "Queued";
    const step = await checkpointStep(trx, lease.runNum);
    await appendEvent(trx, {
      objectKind: RUN_OBJECT, objectId: lease.runId, actor: lease.owner, from: "Running", to,
      reason: to === "Paused" ? `paused at step ${step}` : `the pause was withdrawn after the worker stopped the process; resumes from step ${step}`,
    });
    return { applied: true, status: to, cancelRequested: false };
  });
}
