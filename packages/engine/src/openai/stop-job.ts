import { SailfinError, type OpenAiJobObject } from "@sailfin/contract";
import { requestStop } from "../queue/request-stop.js";
import type { Actor, EngineResources } from "../resources.js";
import { recordEndingOfCancelledRun } from "./job-endings.js";
import { jobState, TERMINAL } from "./job-state.js";
import { findFineTuningJobRow } from "./read-jobs.js";
import { openAiJobView } from "./job-view.js";

/**
 * `POST /v1/fine_tuning/jobs/{id}/cancel`: the queue's requestStop on the job's run. A queued (or
 * paused) job is cancelled at once; a running one is asked to stop, and reads `running` until its
 * worker has stopped the runtime and recorded Cancelled (seconds). A cancelled job answers as it is
 * (the SDKs retry a cancel whose answer was lost); one that succeeded or failed, or whose training
 * ended and is only publishing, is refused: 400 "Job … has already completed".
 *
 * @example const job = await cancelFineTuningJob(res, actor, "ftjob-…"); job.status // "cancelled"
 */
export async function cancelFineTuningJob(res: EngineResources, actor: Actor, id: string): Promise<OpenAiJobObject> {
  const row = await findFineTuningJobRow(res, id);
  const completed = () => new SailfinError("InvalidParameter", { field: "fine_tuning_job_id", detail: `Job ${id} has already completed` });
  const state = await jobState(res.db, row);
  if (TERMINAL.has(state.status) || state.run === null) {
    if (state.status === "cancelled") return openAiJobView(res, row);
    throw completed();
  }
  const run = state.run;
  try {
    await requestStop(res.db, actor, async () => {
      const now = await res.db.selectFrom("runs").select(["num", "id", "kind", "status", "cancel_requested"]).where("num", "=", run.num).executeTakeFirst();
      if (now === undefined) throw new SailfinError("PathNotFound", { field: "fine_tuning_job_id", detail: `the task of job ${id} was deleted` });
      return now;
    }, "fine_tuning_job_id", "fine-tuning job", (trx, runNum) => recordEndingOfCancelledRun(trx, actor, runNum));
  } catch (error) {
    if (error instanceof SailfinError && error.id === "Conflict") throw completed();
    throw error;
  }
  return openAiJobView(res, row);
}
