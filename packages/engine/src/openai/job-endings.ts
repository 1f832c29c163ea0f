import { appendEvent, type Db } from "@sailfin/store";
import type { Actor } from "../resources.js";

/**
 * The `events` rows webhooks deliver for OpenAI jobs (object kind `fine_tuning_job`, the `ftjob-`
 * id, to_state `succeeded` | `failed` | `cancelled`): one per job, written in the transaction
 * that decides the outcome (the publish's settle, the run's end hook), and by the job's readers
 * for endings no hook sees (a queued run stopped at once).
 */
export const FINE_TUNING_JOB_KIND = "fine_tuning_job";

type Ending = "succeeded" | "failed" | "cancelled";

const ENDINGS = ["succeeded", "failed", "cancelled"];

/** Whether the job's ending is recorded already (a read without a write transaction, for readers). */
export async function hasEnding(db: Db, jobId: string): Promise<boolean> {
  const seen = await db.selectFrom("events").select("num")
    .where("object_kind", "=", FINE_TUNING_JOB_KIND).where("object_id", "=", jobId).where("to_state", "in", ENDINGS).limit(1).executeTakeFirst();
  return seen !== undefined;
}

/**
 * Writes the job's ending once. The no-op update takes the job's row lock first (PostgreSQL), so
 * two writers of the same ending serialize and the second sees the first's row; SQLite's
 * transactions run one at a time already.
 *
 * @example await recordJobEnding(trx, actor, 12, "succeeded")
 */
export async function recordJobEnding(trx: Db, actor: Actor, jobNum: number, to: Ending, reason?: string): Promise<void> {
  const job = await trx.selectFrom("openai_jobs").select(["id"]).where("num", "=", jobNum).executeTakeFirst();
  if (job === undefined) return;
  await trx.updateTable("openai_jobs").set((eb) => ({ seed: eb.ref("seed") })).where("num", "=", jobNum).execute();
  if (await hasEnding(trx, job.id)) return;
  await appendEvent(trx, {
    objectKind: FINE_TUNING_JOB_KIND, objectId: job.id, actor: actor.accessKey, from: null, to,
    ...(reason === undefined ? {} : { reason: reason.slice(0, 1_000) }),
  });
}

/** From a publish's settle: the version a job's success published turned Ready (succeeded) or Fail (failed). */
export async function recordEndingOfVersion(trx: Db, actor: Actor, versionNum: number, status: "Ready" | "Fail", reason?: string): Promise<void> {
  const version = await trx.selectFrom("model_versions").select(["source_run_num"]).where("num", "=", versionNum).executeTakeFirst();
  if (version?.source_run_num == null) return;
  const job = await trx.selectFrom("openai_jobs").select(["num", "model_version_num"]).where("run_num", "=", version.source_run_num).executeTakeFirst();
  if (job === undefined) return;
  // Only the version the run's success published ends the job (not a later checkpoint's publish).
  const first = await trx.selectFrom("model_versions").select("num").where("source_run_num", "=", version.source_run_num)
    .where("source_type", "=", "Train").orderBy("num", "asc").limit(1).executeTakeFirst();
  if (first?.num !== versionNum || (job.model_version_num !== null && job.model_version_num !== versionNum)) return;
  // Remembered now: once deleted, the version must not be mistaken for "not published yet".
  await trx.updateTable("openai_jobs").set({ model_version_num: versionNum }).where("num", "=", job.num).execute();
  await recordJobEnding(trx, actor, job.num, status === "Ready" ? "succeeded" : "failed", reason);
}

/** From a fine-tuning run's end hook: the OpenAI job of V2 job `jobId` (if it is one) failed or was cancelled. */
export async function recordEndingOfRun(trx: Db, actor: Actor, jobId: string, status: "Failed" | "Cancelled", reason: string): Promise<void> {
  const job = await trx.selectFrom("openai_jobs").innerJoin("finetune_jobs", "finetune_jobs.num", "openai_jobs.job_num")
    .select(["openai_jobs.num as num"]).where("finetune_jobs.id", "=", jobId).executeTakeFirst();
  if (job === undefined) return;
  await recordJobEnding(trx, actor, job.num, status === "Failed" ? "failed" : "cancelled", reason);
}

/** From a stop that cancelled a queued or paused run at once: the OpenAI job of that run (if any) is cancelled. */
export async function recordEndingOfCancelledRun(trx: Db, actor: Actor, runNum: number): Promise<void> {
  const job = await trx.selectFrom("openai_jobs").select("num").where("run_num", "=", runNum).executeTakeFirst();
  if (job !== undefined) await recordJobEnding(trx, actor, job.num, "cancelled", "cancelled before it ran to the end");
}

/**
 * Checkpoint versions published for `ft:…:ckpt-step-N` names (object kind `fine_tuning_checkpoint`,
 * object id `<ftjob>:<step>`, reason the version id): a name publishes once, so a version deleted
 * later is not published again behind its deleter's back. Not a webhook kind.
 */
export const CHECKPOINT_PUBLISH_KIND = "fine_tuning_checkpoint";
