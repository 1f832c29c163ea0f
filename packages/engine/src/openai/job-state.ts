import type { Selectable } from "kysely";
import type { OpenAiJobStatus } from "@sailfin/contract";
import type { Database, Db, ModelVersionTable, RunTable } from "@sailfin/store";

/**
 * An OpenAI job is a V2 job and its one task, seen a third way: its status is never stored but
 * derived from the run and the model version its success published, so V1, V2 and OpenAI always
 * agree. This module reads the three rows and says what OpenAI's status is.
 */
export type OpenAiJobRow = Selectable<Database["openai_jobs"]>;
type RunRow = Selectable<RunTable>;
type VersionRow = Selectable<ModelVersionTable>;

export interface OpenAiJobState {
  readonly job: OpenAiJobRow;
  /** Null when the task was deleted through V1/V2 (the job then reads as failed). */
  readonly run: RunRow | null;
  /** The version published from the run's final checkpoint (autoPublish); null before, and once deleted. */
  readonly version: VersionRow | null;
  /** The published version was deleted (`DELETE /v1/models/{ft}`, DeleteCustomModel): the job stays succeeded, its model answers no more. */
  readonly modelDeleted: boolean;
  readonly status: OpenAiJobStatus;
  readonly error: { readonly code: string; readonly message: string; readonly param: string | null } | null;
  /** ISO time the job reached a terminal status; null before. */
  readonly finishedAt: string | null;
}

export const TERMINAL: ReadonlySet<OpenAiJobStatus> = new Set(["succeeded", "failed", "cancelled"]);

/**
 * The version the run's success published: the first Train version of the run (publishFinalCheckpoint
 * creates it in the transaction that ends the run Succeeded; any other publish of the run, a
 * checkpoint's or a V2 caller's, can only come later).
 */
async function publishedVersion(db: Db, job: OpenAiJobRow, run: RunRow | null): Promise<VersionRow | "deleted" | null> {
  if (job.model_version_num !== null) {
    return (await db.selectFrom("model_versions").selectAll().where("num", "=", job.model_version_num).executeTakeFirst()) ?? "deleted";
  }
  if (run === null || run.status !== "Succeeded") return null;
  const version = await db.selectFrom("model_versions").selectAll()
    .where("source_run_num", "=", run.num).where("source_type", "=", "Train").orderBy("num", "asc").limit(1).executeTakeFirst();
  if (version === undefined) return null;
  // Remembered, so resolving `fine_tuned_model` is one lookup.
  await db.updateTable("openai_jobs").set({ model_version_num: version.num }).where("num", "=", job.num).where("model_version_num", "is", null).execute();
  return version;
}

/**
 * Derives OpenAI's status: Queued → queued, Running → running, Paused → paused, Succeeded →
 * running while the final checkpoint is being published (version Creating), succeeded once it is
 * Ready (and after its model was deleted), failed when the publish failed or no checkpoint was saved; Failed → failed with the run's
 * reason; Cancelled → cancelled.
 *
 * @example const state = await jobState(res.db, row); state.status // "running"
 */
export async function jobState(db: Db, job: OpenAiJobRow): Promise<OpenAiJobState> {
  const run = (await db.selectFrom("runs").selectAll().where("num", "=", job.run_num).executeTakeFirst()) ?? null;
  const published = await publishedVersion(db, job, run);
  const version = published === "deleted" ? null : published;
  const base = { job, run, version, modelDeleted: published === "deleted" };
  if (run === null) {
    return { ...base, status: "failed", error: { code: "job_deleted", message: "the fine-tuning task of this job was deleted", param: null }, finishedAt: job.created_at };
  }
  switch (run.status) {
    case "Queued": return { ...base, status: "queued", error: null, finishedAt: null };
    case "Running": return { ...base, status: "running", error: null, finishedAt: null };
    case "Paused": return { ...base, status: "paused", error: null, finishedAt: null };
    case "Cancelled": return { ...base, status: "cancelled", error: null, finishedAt: run.finished_at };
    case "Failed": {
      const code = run.failure_kind === "user" ? "invalid_training_run" : "server_error";
      return { ...base, status: "failed", error: { code, message: run.failure_reason ?? "the training run failed", param: null }, finishedAt: run.finished_at };
    }
    case "Succeeded":
      if (published === "deleted") return { ...base, status: "succeeded", error: null, finishedAt: run.finished_at };
      if (version === null) {
        const saved = await db.selectFrom("run_checkpoints").select("num").where("run_num", "=", run.num).limit(1).executeTakeFirst();
        if (saved !== undefined) return { ...base, status: "running", error: null, finishedAt: null };
        return { ...base, status: "failed", error: { code: "no_checkpoint", message: "training ended without saving a checkpoint to publish", param: null }, finishedAt: run.finished_at };
      }
      if (version.status === "Ready") return { ...base, status: "succeeded", error: null, finishedAt: version.modified_at };
      if (version.status === "Fail") {
        return { ...base, status: "failed", error: { code: "publish_failed", message: version.fail_reason ?? "publishing the fine-tuned model failed", param: null }, finishedAt: version.modified_at };
      }
      return { ...base, status: "running", error: null, finishedAt: null };
    default:
      return { ...base, status: "running", error: null, finishedAt: null };
  }
}
