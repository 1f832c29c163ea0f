import { STATE_WORD, SailfinError, nowIso, type RunStatus } from "@sailfin/contract";
import { appendEvent, type Database } from "@sailfin/store";
import type { Kysely, Transaction } from "kysely";
import type { Actor } from "../resources.js";
import { RUN_OBJECT } from "./lease.js";
import { runStateOf } from "./run-state.js";

export interface StopResult {
  /** The run's status after the call. */
  readonly status: RunStatus;
  /** True when a Running run was asked to stop (the worker stops it and records Cancelled). */
  readonly cancelRequested: boolean;
}

/**
 * Stops any run, re-reading it on a lost race (Queued → Running meanwhile).
 * - Queued or Paused: Cancelled at once (one conditional update, with its event).
 * - Running: `cancel_requested` is set; the worker holding the lease stops the process and
 *   records Cancelled. The call answers at once.
 * - Cancelled already: nothing to do (stopping is idempotent, as SDKs retry).
 * - Succeeded or Failed: Conflict naming `field` and the state in the caller's dialect — saying
 *   yes would claim a change that did not happen.
 *
 * @example await requestStop(db, actor, () => findRow(...), "modelCompTaskId", "compression task")
 */
export async function requestStop(
  db: Kysely<Database>, actor: Actor,
  read: () => Promise<{ num: number; id: string; kind: string; status: string; cancel_requested: number; result?: string | null }>,
  field: string, noun: string,
  /** Runs in the transaction that cancels a Queued or Paused run at once (what the run was making ends there too). */
  onCancelled?: (trx: Transaction<Database>, runNum: number) => Promise<void>,
): Promise<StopResult> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const run = await read();
    switch (run.status as RunStatus) {
      case "Queued": {
        const done = await db.transaction().execute(async (trx) => {
          const result = await trx.updateTable("runs").set({ status: "Cancelled", finished_at: nowIso(), available_at: nowIso() })
            .where("num", "=", run.num).where("status", "=", "Queued").executeTakeFirst();
          if (Number(result.numUpdatedRows) !== 1) return false;
          await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: run.id, actor: actor.accessKey, from: "Queued", to: "Cancelled", reason: "stopped before it started" });
          await onCancelled?.(trx, run.num);
          return true;
        });
        if (done) return { status: "Cancelled", cancelRequested: false };
        break;
      }
      case "Running": {
        if (run.cancel_requested === 1) return { status: "Running", cancelRequested: true };
        const done = await db.transaction().execute(async (trx) => {
          const result = await trx.updateTable("runs").set({ cancel_requested: 1 })
            .where("num", "=", run.num).where("status", "=", "Running").where("cancel_requested", "=", 0).executeTakeFirst();
          if (Number(result.numUpdatedRows) !== 1) return false;
          // Not a state change yet: recorded so the log shows who asked and when.
          await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: run.id, actor: actor.accessKey, from: "Running", to: "Running", reason: "stop requested" });
          return true;
        });
        if (done) return { status: "Running", cancelRequested: true };
        break;
      }
      case "Paused": {
        // A paused run holds no worker: nothing to signal, so it ends here, as a queued one does.
        const done = await db.transaction().execute(async (trx) => {
          const result = await trx.updateTable("runs").set({ status: "Cancelled", finished_at: nowIso(), available_at: nowIso(), pause_requested: 0 })
            .where("num", "=", run.num).where("status", "=", "Paused").executeTakeFirst();
          if (Number(result.numUpdatedRows) !== 1) return false;
          await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: run.id, actor: actor.accessKey, from: "Paused", to: "Cancelled", reason: "stopped while paused" });
          await onCancelled?.(trx, run.num);
          return true;
        });
        if (done) return { status: "Cancelled", cancelRequested: false };
        break;
      }
      case "Cancelled":
        return { status: "Cancelled", cancelRequested: false };
      case "Succeeded":
      case "Failed":
        throw new SailfinError("Conflict", { field, detail: `${noun} ${run.id} has already finished (${STATE_WORD}); there is nothing to stop`, state: runStateOf(run) });
    }
  }
  throw new SailfinError("Conflict", { field, detail: `the ${noun} changed state while stopping it; try again` });
}
