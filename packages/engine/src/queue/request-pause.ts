import { STATE_WORD, SailfinError, nowIso, type RunStatus } from "@sailfin/contract";
import { appendEvent, type Database, type Db } from "@sailfin/store";
import type { Kysely } from "kysely";
import type { Actor } from "../resources.js";
import { RUN_OBJECT } from "./lease.js";
import { runStateOf } from "./run-state.js";

/** What the pause and resume requests read of the run (re-read on a lost race). */
interface PausableRow {
  readonly num: number;
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly cancel_requested: number;
  readonly pause_requested: number;
}

interface PauseResult {
  /** The run's status after the call. */
  readonly status: RunStatus;
  /** True when a Running run was asked to pause (its worker stops it at a checkpoint and records Paused). */
  readonly pauseRequested: boolean;
}

/**
 * The step of the run's newest checkpoint row (0: none yet), which the next attempt resumes from:
 * what a pause's events name.
 */
export async function checkpointStep(db: Db, runNum: number): Promise<number> {
  const row = await db.selectFrom("run_checkpoints").select("step")
    .where("run_num", "=", runNum).orderBy("step", "desc").limit(1).executeTakeFirst();
  return row?.step ?? 0;
}

/**
 * Pauses a run, re-reading it on a lost race (Queued → Running meanwhile):
 * - Queued: Paused at once (it was holding nothing).
 * - Running: `pause_requested` is set; the worker holding the lease stops the process the way a
 *   drain does (SIGTERM: the runtime saves a checkpoint) and records Paused without spending an
 *   attempt, which frees its slot and the lease. The call answers at once.
 * - Paused, or a pause already asked: nothing to do (SDKs retry).
 * - Running with a stop asked, or finished: Conflict naming `field` and the state in the caller's
 *   dialect (pausing a run that is ending would claim a change that cannot happen).
 *
 * @example await requestPause(db, actor, () => readRow(...), "taskId", "task")
 */
export async function requestPause(db: Kysely<Database>, actor: Actor, read: () => Promise<PausableRow>, field: string, noun: string): Promise<PauseResult> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const run = await read();
    const status = run.status as RunStatus;
    switch (status) {
      case "Queued": {
        const done = await db.transaction().execute(async (trx) => {
          const result = await trx.updateTable("runs").set({ status: "Paused", pause_requested: 0 })
            .where("num", "=", run.num).where("status", "=", "Queued").executeTakeFirst();
          if (Number(result.numUpdatedRows) !== 1) return false;
          const step = await checkpointStep(trx, run.num);
          await appendEvent(trx, {
            objectKind: RUN_OBJECT, objectId: run.id, actor: actor.accessKey, from: "Queued", to: "Paused",
            reason: `paused by ${actor.accessKey} while queued${step > 0 ? ` (resumes from step ${step})` : ""}`,
          });
          return true;
        });
        if (done) return { status: "Paused", pauseRequested: false };
        break;
      }
      case "Running": {
        if (run.cancel_requested !== 0) {
          throw new SailfinError("Conflict", { field, detail: `${noun} ${run.id} is being stopped; it cannot be paused`, state: runStateOf(run) });
        }
        if (run.pause_requested !== 0) return { status: "Running", pauseRequested: true };
        const done = await db.transaction().execute(async (trx) => {
          const result = await trx.updateTable("runs").set({ pause_requested: 1 })
            .where("num", "=", run.num).where("status", "=", "Running").where("pause_requested", "=", 0).where("cancel_requested", "=", 0)
            .executeTakeFirst();
          if (Number(result.numUpdatedRows) !== 1) return false;
          // Not a state change yet: recorded so the log shows who asked and when.
          await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: run.id, actor: actor.accessKey, from: "Running", to: "Running", reason: `pause requested by ${actor.accessKey}` });
          return true;
        });
        if (done) return { status: "Running", pauseRequested: true };
        break;
      }
      case "Paused":
        return { status: "Paused", pauseRequested: false };
      case "Succeeded":
      case "Failed":
      case "Cancelled":
        throw new SailfinError("Conflict", { field, detail: `${noun} ${run.id} has already finished (${STATE_WORD}); there is nothing to pause`, state: runStateOf(run) });
      default:
        throw new Error(`unexpected run status ${String(status satisfies never)}`);
    }
  }
  throw new SailfinError("Conflict", { field, detail: `the ${noun} changed state while pausing it; try again` });
}

/**
 * Resumes a paused run:
 * - Paused: Queued, available now; the next claim resumes it from its latest checkpoint.
 * - Running with a pause asked: the request is withdrawn (it stays Running; a worker that already
 *   stopped the process hands the run back to the queue instead of pausing it).
 * - Anything else: Conflict naming `field` and the state in the caller's dialect.
 *
 * @example await requestResume(db, actor, () => readRow(...), "taskId", "task")
 */
export async function requestResume(db: Kysely<Database>, actor: Actor, read: () => Promise<PausableRow>, field: string, noun: string): Promise<{ status: RunStatus }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const run = await read();
    if (run.status === "Paused") {
      const done = await db.transaction().execute(async (trx) => {
        const result = await trx.updateTable("runs").set({ status: "Queued", available_at: nowIso(), pause_requested: 0 })
          .where("num", "=", run.num).where("status", "=", "Paused").executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        const step = await checkpointStep(trx, run.num);
        await appendEvent(trx, {
          objectKind: RUN_OBJECT, objectId: run.id, actor: actor.accessKey, from: "Paused", to: "Queued",
          reason: `resumed by ${actor.accessKey}; ${step > 0 ? `resumes from the checkpoint at step ${step}` : "no checkpoint yet: starts from the beginning"}`,
        });
        return true;
      });
      if (done) return { status: "Queued" };
      continue;
    }
    if (run.status === "Running" && run.pause_requested !== 0) {
      const done = await db.transaction().execute(async (trx) => {
        const result = await trx.updateTable("runs").set({ pause_requested: 0 })
          .where("num", "=", run.num).where("status", "=", "Running").where("pause_requested", "<>", 0).executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: run.id, actor: actor.accessKey, from: "Running", to: "Running", reason: `pause withdrawn by ${actor.accessKey}` });
        return true;
      });
      if (done) return { status: "Running" };
      continue;
    }
    const why = run.status === "Running" || run.status === "Queued" ? "is not paused" : "has already finished";
    throw new SailfinError("Conflict", { field, detail: `${noun} ${run.id} ${why} (${STATE_WORD}); there is nothing to resume`, state: runStateOf(run) });
  }
  throw new SailfinError("Conflict", { field, detail: `the ${noun} changed state while resuming it; try again` });
}
