import { sql, type Kysely } from "kysely";
import { nowIso } from "@sailfin/contract";
import { appendEvent, type Database } from "@sailfin/store";
import { RUN_OBJECT, type Lease } from "./lease.js";
import type { OnRunEnded } from "./run-ending.js";
import { QUEUED_OR_PAUSED, handBackReason } from "./pause-leased.js";

/**
 * How many times a run may go back to the queue from one checkpoint step: a run that the cluster
 * keeps stopping before it saves a later checkpoint (a time limit shorter than the start-up, a
 * node that fails on every start) would otherwise loop for ever, since a requeue spends no attempt.
 */
export const MAX_REQUEUES_PER_STEP = 3;

interface RequeueOptions {
  /** Why, for the run's events: "requeued after the Slurm time limit at step 12". */
  readonly reason: string;
  /** The checkpoint step the next attempt resumes from (0: none). */
  readonly step: number;
  /** Runs in the same transaction when the run ends Failed instead (`settleEndedRun`). */
  readonly onEnded: OnRunEnded;
}

interface RequeueResult {
  /** False when the lease was lost (nothing changed). */
  readonly applied: boolean;
  /**
   * `Queued` (`Paused` when a pause was asked meanwhile), or `Failed` when it was requeued
   * MAX_REQUEUES_PER_STEP times from this step already.
   */
  readonly status: "Queued" | "Paused" | "Failed" | null;
}

/**
 * Hands a run the cluster stopped back to the queue WITHOUT counting the attempt (`attempt - 1`,
 * as `releaseRun`): Queued and available now, so the next claim resumes from its checkpoint at
 * `step`. Each requeue's event ends in `[resumes from step N]`; when the run's events already hold
 * MAX_REQUEUES_PER_STEP of them for this step (no checkpoint was saved past it since), the run ends
 * Failed instead (a system failure, not retried: a retry would meet the same cluster). Fenced.
 *
 * @example await requeueRun(db, lease, { reason: "requeued after the Slurm time limit at step 12", step: 12, onEnded: settleEndedRun })
 */
export async function requeueRun(db: Kysely<Database>, lease: Lease, options: RequeueOptions): Promise<RequeueResult> {
  const marker = `[resumes from step ${options.step}]`;
  return db.transaction().execute(async (trx) => {
    const earlier = await trx.selectFrom("events").select(sql<number>`count(*)`.as("n"))
      .where("object_kind", "=", RUN_OBJECT).where("object_id", "=", lease.runId)
      .where("from_state", "=", "Running").where("to_state", "=", "Queued").where("reason", "like", `%${marker}`)
      .executeTakeFirstOrThrow();
    const requeues = Number(earlier.n);
    if (requeues >= MAX_REQUEUES_PER_STEP) {
      const reason = `${options.reason}; requeued ${requeues} times from step ${options.step} already without a later checkpoint, so not again`;
      const result = await trx.updateTable("runs")
        .set({ status: "Failed", finished_at: nowIso(), lease_owner: null, lease_token: null, lease_expires_at: null, failure_kind: "system", failure_reason: reason })
        .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running")
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return { applied: false, status: null };
      await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: lease.runId, actor: lease.owner, from: "Running", to: "Failed", reason });
      await options.onEnded(trx, { kind: lease.kind, spec: lease.row.spec }, { status: "Failed", reason });
      return { applied: true, status: "Failed" };
    }
    const row = await trx.updateTable("runs")
      .set({
        status: QUEUED_OR_PAUSED, pause_requested: 0, available_at: nowIso(),
        lease_owner: null, lease_token: null, lease_expires_at: null, attempt: sql<number>`attempt - 1`,
      })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running")
      .returning(["status"]).executeTakeFirst();
    if (row === undefined) return { applied: false, status: null };
    const to = row.status as "Queued" | "Paused";
    // The marker stays last: the count above reads it (a Paused hand-back is not counted, as a pause is the caller's).
    const reason = to === "Paused" ? await handBackReason(trx, lease.runNum, to, options.reason) : `${options.reason} ${marker}`;
    await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: lease.runId, actor: lease.owner, from: "Running", to, reason });
    return { applied: true, status: to };
  });
}
