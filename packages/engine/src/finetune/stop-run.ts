import { requestStop, type StopResult } from "../queue/request-stop.js";
import { recordEndingOfCancelledRun } from "../openai/job-endings.js";
import type { Actor, EngineResources } from "../resources.js";
import { findJob, findRun } from "./find.js";
import type { FinetuneRef } from "./refs.js";
import type { FinetuneRunScope } from "./describe-run.js";

type StopRunResult = StopResult;

/**
 * Stops a fine-tuning run (the queue's `requestStop`: Queued → Cancelled at once, Running → the
 * worker is asked, Cancelled → nothing to do, finished → Conflict). A run that is an OpenAI job's
 * ends that job in the same transaction (its webhook event).
 */
export async function stopRun(res: EngineResources, actor: Actor, ref: FinetuneRef, field: string, scope?: FinetuneRunScope): Promise<StopRunResult> {
  const jobNum = scope === undefined ? undefined : (await findJob(res.db, scope.job, scope.jobField)).num;
  return requestStop(res.db, actor, async () => {
    const run = await findRun(res.db, ref, field, jobNum);
    return { num: run.num, id: run.id, kind: "finetune", status: run.status, cancel_requested: run.cancelRequested ? 1 : 0 };
  }, field, "task", (trx, runNum) => recordEndingOfCancelledRun(trx, actor, runNum));
}
