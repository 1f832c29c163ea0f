import type { Kysely } from "kysely";
import { nowIso } from "@sailfin/contract";
import { appendEvent, type Database } from "@sailfin/store";
import { isoIn, RUN_OBJECT, type Lease } from "./lease.js";
import type { OnRunEnded } from "./run-ending.js";
import { QUEUED_OR_PAUSED, handBackReason } from "./pause-leased.js";

/** `user`: bad input, retrying cannot help. `system`: a crash, OOM, a kill — worth a retry. */
export type FailureKind = "user" | "system";

interface FailOptions {
  readonly kind: FailureKind;
  /** What went wrong, for the task's failure reason (includes the stderr tail). */
  readonly reason: string;
  /** First retry delay; doubles with every attempt (default 5 s). */
  readonly backoffMs?: number;
  /** Runs in the same transaction when the run ends Failed (`settleEndedRun`: a publish fails its version there). */
  readonly onEnded: OnRunEnded;
}

interface FailResult {
  /** False when the lease was lost (nothing changed). */
  readonly applied: boolean;
  /** `Queued` (retried later; `Paused` when a pause was asked meanwhile) or `Failed`. */
  readonly status: "Queued" | "Paused" | "Failed" | null;
}

/**
 * Records a failed attempt (fenced). A user error ends the run Failed. A system error returns it
 * to Queued with `available_at = now + backoff · 2^(attempt-1)` while attempts remain — the next
 * claim resumes from its last checkpoint — and ends it Failed after `max_attempts`.
 *
 * @example await failRun(db, lease, { kind: "system", reason: "runtime killed by SIGKILL; stderr: …", onEnded: settleEndedRun })
 */
export async function failRun(db: Kysely<Database>, lease: Lease, options: FailOptions): Promise<FailResult> {
  const retry = options.kind === "system" && lease.attempt < lease.maxAttempts;
  const backoff = (options.backoffMs ?? 5_000) * 2 ** Math.max(0, lease.attempt - 1);
  const reason = options.reason.slice(0, 8_000);
  return db.transaction().execute(async (trx) => {
    const row = await trx.updateTable("runs")
      .set(retry
        ? {
            status: QUEUED_OR_PAUSED, pause_requested: 0, available_at: isoIn(backoff),
            lease_owner: null, lease_token: null, lease_expires_at: null, failure_kind: options.kind, failure_reason: reason,
          }
        : { status: "Failed", finished_at: nowIso(), lease_owner: null, lease_token: null, lease_expires_at: null, failure_kind: options.kind, failure_reason: reason })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running")
      .returning(["status"]).executeTakeFirst();
    if (row === undefined) return { applied: false, status: null };
    const to = row.status as "Queued" | "Paused" | "Failed";
    const said = `${options.kind} error on attempt ${lease.attempt} of ${lease.maxAttempts}${to === "Queued" ? `, retried in ${Math.round(backoff / 1000)} s` : ""}: ${reason.slice(0, 1_000)}`;
    await appendEvent(trx, {
      objectKind: RUN_OBJECT, objectId: lease.runId, actor: lease.owner, from: "Running", to,
      reason: await handBackReason(trx, lease.runNum, to, said),
    });
    if (!retry) await options.onEnded(trx, { kind: lease.kind, spec: lease.row.spec }, { status: "Failed", reason });
    return { applied: true, status: to };
  });
}
