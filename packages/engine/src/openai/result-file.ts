import type { EngineResources } from "../resources.js";
import { createOpenAiResultFile } from "./files.js";
import type { OpenAiJobRow } from "./job-state.js";

const COLUMNS = ["step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy"] as const;

/**
 * The job's metrics as OpenAI's result CSV (reference §3.2): one row per logged step, the
 * training loss and the held-out loss where measured; Sailfin's runtime measures no token
 * accuracy, so those columns stay empty.
 */
async function metricsCsv(res: EngineResources, runNum: number): Promise<Buffer> {
  const rows = await res.db.selectFrom("run_metrics").select(["step", "loss", "eval_loss"]).where("run_num", "=", runNum).orderBy("step", "asc").orderBy("num", "asc").execute();
  const byStep = new Map<number, { train?: number; valid?: number }>();
  for (const r of rows) {
    const at = byStep.get(r.step) ?? {};
    if (r.loss !== null) at.train = Number(r.loss);
    if (r.eval_loss !== null) at.valid = Number(r.eval_loss);
    byStep.set(r.step, at);
  }
  const lines = [COLUMNS.join(",")];
  for (const [step, m] of byStep) lines.push([step, m.train ?? "", "", m.valid ?? "", ""].join(","));
  return Buffer.from(`${lines.join("\n")}\n`);
}

/**
 * Writes the result file of a job whose training ended (succeeded, or failed after training) once:
 * the CSV is stored as a `fine-tune-results` file, then claimed by a conditional update; a
 * concurrent reader that lost the claim removes its own copy, so the job names exactly one.
 *
 * @example const num = await ensureResultFile(res, row); // file num, or null when nothing was trained
 */
export async function ensureResultFile(res: EngineResources, job: OpenAiJobRow): Promise<number | null> {
  if (job.result_file_num !== null) return job.result_file_num;
  // Owned by whoever created the job, like the job itself.
  const file = await createOpenAiResultFile(res, { accessKey: job.creator }, {
    filename: "step_metrics.csv", purpose: "fine-tune-results", content: await metricsCsv(res, job.run_num),
  });
  const claimed = await res.db.updateTable("openai_jobs").set({ result_file_num: file.num })
    .where("num", "=", job.num).where("result_file_num", "is", null).executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 1) return file.num;
  await res.db.deleteFrom("openai_files").where("num", "=", file.num).execute();
  await res.artifacts.delete(file.objectKey).catch(() => undefined);
  const now = await res.db.selectFrom("openai_jobs").select("result_file_num").where("num", "=", job.num).executeTakeFirst();
  return now?.result_file_num ?? null;
}
