import { SailfinError, type OpenAiCheckpointObject } from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import { findFineTuningJobRow } from "./read-jobs.js";
import { unixSeconds } from "./job-view.js";

/**
 * `GET /v1/fine_tuning/jobs/{id}/checkpoints`: the run's saved checkpoints (run_checkpoints), newest
 * first; each is callable as `<fine_tuned_model>:ckpt-step-N` (resolveFineTunedModel publishes it
 * on first use). Ids `ftckpt_<job>_<step>` are stable, so `after` works.
 *
 * @example await listFineTuningJobCheckpoints(res, "ftjob-…", { limit: 10 })
 */
export async function listFineTuningJobCheckpoints(
  res: EngineResources, id: string, page: { readonly after?: string; readonly limit: number },
): Promise<{ data: OpenAiCheckpointObject[]; hasMore: boolean }> {
  const job = await findFineTuningJobRow(res, id);
  const rows = await res.db.selectFrom("run_checkpoints").selectAll().where("run_num", "=", job.run_num).orderBy("step", "desc").execute();
  const all: OpenAiCheckpointObject[] = rows.map((c) => ({
    object: "fine_tuning.job.checkpoint",
    id: `ftckpt_${job.id.slice("ftjob-".length)}_${c.step}`,
    created_at: unixSeconds(c.created_at),
    fine_tuned_model_checkpoint: `${job.fine_tuned_model}:ckpt-step-${c.step}`,
    step_number: c.step,
    fine_tuning_job_id: job.id,
    metrics: {
      step: c.step,
      ...(c.train_loss === null ? {} : { train_loss: Number(c.train_loss) }),
      ...(c.eval_loss === null ? {} : { valid_loss: Number(c.eval_loss), full_valid_loss: Number(c.eval_loss) }),
    },
  }));
  let start = 0;
  if (page.after !== undefined) {
    const at = all.findIndex((c) => c.id === page.after);
    if (at < 0) throw new SailfinError("InvalidParameter", { field: "after", detail: `no checkpoint ${page.after} in job ${id}` });
    start = at + 1;
  }
  return { data: all.slice(start, start + page.limit), hasMore: start + page.limit < all.length };
}
