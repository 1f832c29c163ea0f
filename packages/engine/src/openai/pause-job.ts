import { SailfinError, type OpenAiJobObject } from "@sailfin/contract";
import { pauseRun, resumeRun } from "../finetune/pause-run.js";
import type { Actor, EngineResources } from "../resources.js";
import { openAiJobView } from "./job-view.js";
import { findFineTuningJobRow } from "./read-jobs.js";

/** A state the change does not apply to: OpenAI's 400 (not the 409 of V2), naming the job. */
function wrongState(error: unknown, message: string): unknown {
  return error instanceof SailfinError && error.id === "Conflict"
    ? new SailfinError("InvalidParameter", { field: "fine_tuning_job_id", detail: message })
    : error;
}

/**
 * `POST /v1/fine_tuning/jobs/{id}/pause`: a queued job is paused at once; a running one is asked to
 * pause and reads `running` until its worker has saved a checkpoint and recorded Paused (the
 * worker and its slot are freed). Pausing a paused job changes nothing; a finished one is a 400.
 *
 * @example (await pauseFineTuningJob(res, actor, "ftjob-…")).status // "paused"
 */
export async function pauseFineTuningJob(res: EngineResources, actor: Actor, id: string): Promise<OpenAiJobObject> {
  const row = await findFineTuningJobRow(res, id);
  try {
    await pauseRun(res, actor, row.run_num, "fine_tuning_job_id");
  } catch (error) {
    throw wrongState(error, `Job ${id} cannot be paused: it is not queued or running`);
  }
  return openAiJobView(res, row);
}

/**
 * `POST /v1/fine_tuning/jobs/{id}/resume`: a paused job is queued again and resumes from its latest
 * checkpoint; a pause still pending is withdrawn; anything else is a 400.
 *
 * @example (await resumeFineTuningJob(res, actor, "ftjob-…")).status // "queued"
 */
export async function resumeFineTuningJob(res: EngineResources, actor: Actor, id: string): Promise<OpenAiJobObject> {
  const row = await findFineTuningJobRow(res, id);
  try {
    await resumeRun(res, actor, row.run_num, "fine_tuning_job_id");
  } catch (error) {
    throw wrongState(error, `Job ${id} cannot be resumed: it is not paused`);
  }
  return openAiJobView(res, row);
}
