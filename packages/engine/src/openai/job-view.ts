import type { OpenAiJobMethod, OpenAiJobObject } from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import { SYSTEM_ACTOR } from "../resources.js";
import { hasEnding, recordJobEnding } from "./job-endings.js";
import { ensureResultFile } from "./result-file.js";
import { jobState, TERMINAL, type OpenAiJobRow, type OpenAiJobState } from "./job-state.js";

/** ISO → Unix seconds (OpenAI's times). */
export function unixSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

/** The estimated end of a running job: its start plus the elapsed time scaled by progress; null when not measurable. */
function estimatedFinish(state: OpenAiJobState): number | null {
  const run = state.run;
  if (state.status !== "running" || run === null || run.started_at === null || run.status !== "Running") return null;
  const progress = Number(run.progress);
  if (!(progress > 0 && progress < 100)) return null;
  const started = Date.parse(run.started_at);
  return Math.floor((started + ((Date.now() - started) * 100) / progress) / 1000);
}

function trainedTokens(state: OpenAiJobState): number | null {
  if (state.status !== "succeeded" || state.run?.result == null) return null;
  try {
    const value = (JSON.parse(state.run.result) as { trainedTokens?: unknown }).trainedTokens;
    return typeof value === "number" ? value : null;
  } catch {
    return null;
  }
}

/**
 * A job as OpenAI's `FineTuningJob` (reference §3.2), every required key present. A terminal job
 * whose ending event is missing (a queued run stopped at once, a task deleted through V2) gets it
 * here, so webhooks see every ending.
 *
 * @example const job = await openAiJobView(res, row); job.status // "queued"
 */
export async function openAiJobView(res: EngineResources, row: OpenAiJobRow): Promise<OpenAiJobObject> {
  const state = await jobState(res.db, row);
  if (TERMINAL.has(state.status) && !(await hasEnding(res.db, row.id))) {
    const to = state.status as "succeeded" | "failed" | "cancelled";
    await res.db.transaction().execute((trx) => recordJobEnding(trx, SYSTEM_ACTOR, row.num, to, state.error?.message));
  }
  // A job whose training finished gets its metrics CSV (the first read after the end writes it).
  if (state.status === "succeeded" && row.result_file_num === null) {
    const num = await ensureResultFile(res, row);
    return renderJob(res, { ...state, job: { ...row, result_file_num: num } });
  }
  return renderJob(res, state);
}

async function renderJob(res: EngineResources, state: OpenAiJobState): Promise<OpenAiJobObject> {
  const { job } = state;
  const files = await res.db.selectFrom("openai_files").select(["num", "id"])
    .where("num", "in", [job.training_file_num, ...(job.validation_file_num === null ? [] : [job.validation_file_num]), ...(job.result_file_num === null ? [] : [job.result_file_num])])
    .execute();
  const idOf = (num: number | null) => (num === null ? null : files.find((f) => f.num === num)?.id ?? null);
  const method = JSON.parse(job.method) as OpenAiJobMethod;
  const resultFile = idOf(job.result_file_num);
  return {
    object: "fine_tuning.job",
    id: job.id,
    model: job.model,
    created_at: unixSeconds(job.created_at),
    finished_at: state.finishedAt === null ? null : unixSeconds(state.finishedAt),
    fine_tuned_model: state.status === "succeeded" ? job.fine_tuned_model : null,
    organization_id: `org-${job.organization}`,
    result_files: resultFile === null ? [] : [resultFile],
    status: state.status,
    training_file: idOf(job.training_file_num) ?? "",
    validation_file: idOf(job.validation_file_num),
    // "Only returned for supervised jobs" (reference §3.2): DPO's live in method.dpo.
    hyperparameters: method.type === "supervised" ? method.supervised?.hyperparameters ?? null : null,
    method,
    trained_tokens: trainedTokens(state),
    error: state.error,
    seed: Number(job.seed),
    estimated_finish: estimatedFinish(state),
    integrations: JSON.parse(job.integrations) as unknown[],
    metadata: job.metadata === null ? null : (JSON.parse(job.metadata) as Record<string, string>),
    user_provided_suffix: job.suffix,
  };
}
