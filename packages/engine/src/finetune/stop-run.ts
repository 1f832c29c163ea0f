import { nowIso, SailfinError, type RunStatus } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import type { Actor, EngineResources } from "../resources.js";
import { findJob, findRun } from "./find.js";
import type { FinetuneRef } from "./refs.js";
import type { FinetuneRunScope } from "./describe-run.js";

export interface StopRunResult {
  /** The run's status after the call. */
  readonly status: RunStatus;
  /** True when a Running run was asked to stop (the worker stops it and records Cancelled). */
  readonly cancelRequested: boolean;
}

/**
 * Stops a fine-tuning run.
 * - Queued: Cancelled at once (one conditional update, with its event).
 * - Running: `cancel_requested` is set; the worker holding the lease stops the process and
 *   records Cancelled. The call answers at once.
 * - Cancelled already: nothing to do (stopping is idempotent, as the SDK may retry).
 * - Succeeded or Failed: refused with Conflict — a finished run cannot be stopped, and saying
 *   `true` would claim a state change that did not happen.
 * The updates are guarded by the status read, so a race with the worker (Queued → Running)
 * re-reads and takes the other branch.
 */
export async function stopRun(res: EngineResources, actor: Actor, ref: FinetuneRef, field: string, scope?: FinetuneRunScope): Promise<StopRunResult> {
  const jobNum = scope === undefined ? undefined : (await findJob(res.db, scope.job, scope.jobField)).num;
  for (let attempt = 0; attempt < 5; attempt++) {
    const run = await findRun(res.db, ref, field, jobNum);
    switch (run.status) {
      case "Queued": {
        const done = await res.db.transaction().execute(async (trx) => {
          const result = await trx.updateTable("runs").set({ status: "Cancelled", finished_at: nowIso(), available_at: nowIso() })
            .where("num", "=", run.num).where("status", "=", "Queued").executeTakeFirst();
          if (Number(result.numUpdatedRows) !== 1) return false;
          await appendEvent(trx, { objectKind: "run", objectId: run.id, actor: actor.accessKey, from: "Queued", to: "Cancelled", reason: "stopped before it started" });
          return true;
        });
        if (done) return { status: "Cancelled", cancelRequested: false };
        break;
      }
      case "Running": {
        if (run.cancelRequested) return { status: "Running", cancelRequested: true };
        const done = await res.db.transaction().execute(async (trx) => {
          const result = await trx.updateTable("runs").set({ cancel_requested: 1 })
            .where("num", "=", run.num).where("status", "=", "Running").where("cancel_requested", "=", 0).executeTakeFirst();
          if (Number(result.numUpdatedRows) !== 1) return false;
          // Not a state change yet: recorded so the log shows who asked and when.
          await appendEvent(trx, { objectKind: "run", objectId: run.id, actor: actor.accessKey, from: "Running", to: "Running", reason: "stop requested" });
          return true;
        });
        if (done) return { status: "Running", cancelRequested: true };
        break;
      }
      case "Cancelled":
        return { status: "Cancelled", cancelRequested: false };
      case "Succeeded":
      case "Failed":
        throw new SailfinError("Conflict", { field, detail: `task ${run.id} has already finished (${run.status}); there is nothing to stop` });
    }
  }
  throw new SailfinError("Conflict", { field, detail: "the task changed state while stopping it; try again" });
}
