import type { RunStatus } from "@sailfin/contract";
import { findWorkRun } from "../queue/find-work.js";
import { requestPause, requestResume } from "../queue/request-pause.js";
import type { Actor, EngineResources } from "../resources.js";
import type { FinetuneRef } from "./refs.js";

/** A run number (OpenAI's jobs hold it), or a public id / number as a dialect names it. */
type RunRef = number | FinetuneRef;

function reader(res: EngineResources, run: RunRef, field: string) {
  const ref = typeof run === "number" ? run : (run.id ?? run.num);
  return () => findWorkRun(res.db, "finetune", ref, field, "fine-tuning task");
}

/**
 * Pauses a fine-tuning run (OpenAI's pause; V2's PauseFineTuningTask extension) so that it holds
 * no worker: Queued → Paused at once; Running → `pause_requested`, and its worker stops the
 * runtime with SIGTERM (a checkpoint is saved) and records Paused without spending an attempt;
 * Paused or a pause already asked → no-op; finished, or being stopped → Conflict naming `field`.
 * Other run kinds are not found.
 *
 * @example const { status, pauseRequested } = await pauseRun(res, actor, job.runNum, "fine_tuning_job_id");
 */
export async function pauseRun(res: EngineResources, actor: Actor, runNum: RunRef, field: string): Promise<{ status: RunStatus; pauseRequested: boolean }> {
  return requestPause(res.db, actor, reader(res, runNum, field), field, "task");
}

/**
 * Resumes a paused fine-tuning run: Paused → Queued (available now; the next claim resumes from its
 * latest checkpoint); Running with a pause asked → the request is withdrawn; anything else →
 * Conflict naming `field`.
 *
 * @example await resumeRun(res, actor, { id: "task-…" }, "taskId")
 */
export async function resumeRun(res: EngineResources, actor: Actor, runNum: RunRef, field: string): Promise<{ status: RunStatus }> {
  return requestResume(res.db, actor, reader(res, runNum, field), field, "task");
}
