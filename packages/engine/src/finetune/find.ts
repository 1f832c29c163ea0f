import type { Db } from "@sailfin/store";
import { notFound, type FinetuneRef } from "./refs.js";
import {
  toCheckpointRecord, toJobRecord, toRunRecord, type RunCheckpointRecord, type FinetuneJobRecord, type FinetuneRunDetail, type FinetuneRunRecord,
} from "./records.js";

/** The fine-tuning job named by `ref`; NotFound naming `field` otherwise. */
export async function findJob(db: Db, ref: FinetuneRef, field: string): Promise<FinetuneJobRecord> {
  let query = db.selectFrom("finetune_jobs").selectAll();
  query = ref.id !== undefined ? query.where("id", "=", ref.id) : query.where("num", "=", ref.num);
  const row = await query.executeTakeFirst();
  if (row === undefined) throw notFound(field, "fine-tuning job", ref);
  return toJobRecord(row);
}

/**
 * The fine-tuning run named by `ref`; NotFound naming `field` otherwise, also when `jobNum` is
 * given and the run belongs to another job (V1 names a run by task and job together).
 */
export async function findRun(db: Db, ref: FinetuneRef, field: string, jobNum?: number): Promise<FinetuneRunRecord> {
  let query = db.selectFrom("runs").selectAll().where("kind", "=", "finetune");
  query = ref.id !== undefined ? query.where("id", "=", ref.id) : query.where("num", "=", ref.num);
  const row = await query.executeTakeFirst();
  if (row === undefined || (jobNum !== undefined && row.job_num !== jobNum)) throw notFound(field, "fine-tuning task", ref);
  return toRunRecord(row);
}

/** Checkpoints of several runs at once, by run number, each list by step. */
export async function checkpointsOf(db: Db, runNums: readonly number[]): Promise<Map<number, RunCheckpointRecord[]>> {
  const out = new Map<number, RunCheckpointRecord[]>(runNums.map((num) => [num, []]));
  if (runNums.length === 0) return out;
  const rows = await db.selectFrom("run_checkpoints").selectAll().where("run_num", "in", [...runNums]).orderBy("step", "asc").execute();
  for (const row of rows) out.get(row.run_num)?.push(toCheckpointRecord(row));
  return out;
}

/** Runs with their job and checkpoints (the job is shared: every run here belongs to `job`). */
export async function detailsOf(db: Db, job: FinetuneJobRecord, runs: readonly FinetuneRunRecord[]): Promise<FinetuneRunDetail[]> {
  const nums = runs.map((run) => run.num);
  const checkpoints = await checkpointsOf(db, nums);
  const openAiJobs = await openAiJobsOf(db, nums);
  return runs.map((run) => ({ run, job, checkpoints: checkpoints.get(run.num) ?? [], openAiJob: openAiJobs.get(run.num) ?? null }));
}

/**
 * The OpenAI-dialect jobs among these runs (issue 16: an `ftjob-` is one V2 job with one task),
 * so V2's describe and the console can name it. Its `fine_tuned_model` is shown once the run's
 * first published version (the job's own, openai/job-state.ts) is Ready, as OpenAI's job shows
 * it only once it succeeded.
 */
async function openAiJobsOf(db: Db, runNums: readonly number[]): Promise<Map<number, { id: string; fineTunedModel: string | null }>> {
  if (runNums.length === 0) return new Map();
  const jobs = await db.selectFrom("openai_jobs").select(["run_num", "id", "fine_tuned_model"]).where("run_num", "in", [...runNums]).execute();
  if (jobs.length === 0) return new Map();
  const versions = await db.selectFrom("model_versions").select(["source_run_num", "status"])
    .where("source_run_num", "in", jobs.map((j) => Number(j.run_num))).where("source_type", "=", "Train").orderBy("num", "asc").execute();
  const first = new Map<number, string>();
  for (const v of versions) if (v.source_run_num !== null && !first.has(Number(v.source_run_num))) first.set(Number(v.source_run_num), v.status);
  return new Map(jobs.map((job) => [Number(job.run_num), {
    id: job.id, fineTunedModel: first.get(Number(job.run_num)) === "Ready" ? job.fine_tuned_model : null,
  }]));
}
