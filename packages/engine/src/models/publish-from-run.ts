import { STATE_WORD, SailfinError, isIdOf, newId, nowIso } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import type { Selectable } from "kysely";
import type { Db, FinetuneJobTable, RunTable } from "@sailfin/store";
import { withVersionNumberRetry } from "../unique-retry.js";
import { enqueueRun } from "../queue/enqueue.js";
import { defaultPlacement, type Placement } from "../pools/index.js";
import { runStateOf } from "../queue/run-state.js";
import type { Actor, EngineResources } from "../resources.js";
import { lockRows } from "../row-lock.js";
import { recordEndingOfVersion } from "../openai/job-endings.js";
import { insertModelSet } from "./create-model-set.js";
import {
  findSetByName, insertCreatingVersion,
  type IdRef, type ModelVersionRow,
} from "./model-rows.js";
import { toModelSetRecord, toModelVersionRecord, type ModelSetRecord, type ModelVersionRecord } from "./records.js";

/**
 * Publishing a fine-tuning run's checkpoint as a model version (V2 `CreateCustomModel` with
 * `sourceType: "Train"`, V1 `publishTrainModel`). Only a run that finished (`Succeeded`) with
 * at least one recorded checkpoint can be published; the version starts `Creating` and the same
 * transaction queues a `publish` run, which a worker claims: it exports the checkpoint (LoRA
 * merged into the base) into `models/<versionId>/`, then turns the version Ready (or Fail).
 *
 * `run_checkpoints.path` is an artifact-store key: a folder (the runtime writes one per saved
 * step) or a single file.
 */
type RunRow = Selectable<RunTable>;
type JobRow = Selectable<FinetuneJobTable>;

interface PublishFromRunInput {
  /** A new model set (V1 `isNewModel`), or an existing one. */
  readonly target:
    | { readonly kind: "new"; readonly name: string; readonly labels?: readonly string[]; readonly nameField: string }
    | { readonly kind: "existing"; readonly set: ModelSetRecord };
  /** The run: its number or `task-…` id, and the request field that named it. */
  readonly run: IdRef;
  readonly runField: string;
  /** V1 also names the container (`versionMeta.taskId`): it must be the run's job. */
  readonly job?: { readonly ref: IdRef; readonly field: string };
  /** Checkpoint step; the last one when absent. */
  readonly step?: number;
  readonly stepField: string;
  readonly description?: string;
}

interface PublishedVersion {
  readonly set: ModelSetRecord;
  readonly version: ModelVersionRecord;
}

/**
 * Checks the run and creates the version (and the set, when new) in one transaction.
 *
 * @example await publishFromRun(res, actor, { target: { kind: "existing", set }, run: "task-…", runField: "trainMeta.taskId", stepField: "trainMeta.checkpointStep" })
 */
export async function publishFromRun(res: EngineResources, actor: Actor, input: PublishFromRunInput): Promise<PublishedVersion> {
  const run = await findRun(res, input.run, input.runField);
  if (input.job !== undefined) {
    const job = await findJob(res, input.job.ref, input.job.field);
    if (job.num !== run.job_num) {
      throw new SailfinError("InvalidParameter", { field: input.job.field, detail: `task ${run.id} does not belong to ${job.id}` });
    }
  }
  const checkpoints = await res.db
    .selectFrom("run_checkpoints").select(["step"]).where("run_num", "=", run.num).orderBy("step", "asc").execute();
  if (run.status !== "Succeeded" || checkpoints.length === 0) {
    throw new SailfinError("InvalidParameter", {
      field: input.runField,
      detail: `task ${run.id} has not finished with checkpoints (${STATE_WORD}${run.status === "Succeeded" ? ", no checkpoint saved" : ""}); ` +
        "only a finished task with checkpoints can be published",
      state: runStateOf(run),
    });
  }
  let step = checkpoints[checkpoints.length - 1]!.step;
  if (input.step !== undefined) {
    if (!checkpoints.some((c) => c.step === input.step)) {
      throw new SailfinError("InvalidParameter", {
        field: input.stepField,
        detail: `task ${run.id} has no checkpoint at step ${input.step} (steps: ${checkpoints.map((c) => c.step).join(", ")})`,
      });
    }
    step = input.step;
  }
  // A fine-tuned model keeps its base model's architecture and tokenizer.
  const base = await res.db
    .selectFrom("model_versions").select(["architecture", "config_summary"])
    .where("num", "=", run.base_model_version_num).executeTakeFirst();

  const published = await withVersionNumberRetry(() =>
    res.db.transaction().execute(async (trx) => {
      // The run is read again under a share lock: a delete of it (which locks it `update` before
      // looking for published versions) either committed already and is seen here, or waits for
      // this transaction and then finds the version.
      const locked = await lockRows(trx.selectFrom("runs").select(["num", "status"]).where("num", "=", run.num), res.dialect, "share").executeTakeFirst();
      if (locked === undefined || locked.status !== "Succeeded") {
        throw new SailfinError("InvalidParameter", { field: input.runField, detail: `task ${run.id} was deleted meanwhile` });
      }
      const set = input.target.kind === "new"
        ? toModelSetRecord(await insertModelSet(trx, actor, {
            name: input.target.name, modelType: "Text2Text", nameField: input.target.nameField,
            ...(input.target.labels === undefined ? {} : { labels: input.target.labels }),
          }))
        : input.target.set;
      const version = await insertCreatingVersion(trx, actor, {
        id: newId("modelVersion"),
        setNum: set.num,
        description: input.description ?? "",
        sourceType: "Train",
        sourceRunNum: run.num,
        sourceStep: step,
        architecture: base?.architecture ?? null,
        configSummary: base?.config_summary ?? null,
      });
      await queuePublish(trx, actor, run, version, step, defaultPlacement(res.pools));
      return { set, version: toModelVersionRecord(version) };
    }),
  );
  return published;
}

/** A run by number or `task-…` id, or NotFound naming `field`. */
async function findRun(res: EngineResources, ref: IdRef, field: string): Promise<RunRow> {
  let q = res.db.selectFrom("runs").selectAll().where("kind", "=", "finetune");
  if (typeof ref === "number" || /^\d{1,15}$/.test(ref)) q = q.where("num", "=", Number(ref));
  else if (isIdOf("task", ref)) q = q.where("id", "=", ref);
  else throw new SailfinError("NotFound", { field, detail: `no fine-tuning task ${String(ref)}` });
  const row = await q.executeTakeFirst();
  if (row === undefined) throw new SailfinError("NotFound", { field, detail: `no fine-tuning task ${String(ref)}` });
  return row;
}

async function findJob(res: EngineResources, ref: IdRef, field: string): Promise<JobRow> {
  let q = res.db.selectFrom("finetune_jobs").selectAll();
  if (typeof ref === "number" || /^\d{1,15}$/.test(ref)) q = q.where("num", "=", Number(ref));
  else if (isIdOf("job", ref)) q = q.where("id", "=", ref);
  else throw new SailfinError("NotFound", { field, detail: `no fine-tuning job ${String(ref)}` });
  const row = await q.executeTakeFirst();
  if (row === undefined) throw new SailfinError("NotFound", { field, detail: `no fine-tuning job ${String(ref)}` });
  return row;
}

/**
 * The frozen spec of a `publish` run (a row in `runs`, kind `publish`): the worker runs the
 * runtime's `export` recipe (LoRA merged into the base; a complete Hugging Face folder) from
 * this checkpoint into `models/<versionId>/`, then turns the version Ready (or Fail).
 */
export interface PublishRunSpec {
  readonly specVersion: 1;
  readonly kind: "publish";
  readonly versionId: string;
  readonly versionNum: number;
  readonly sourceRunId: string;
  readonly sourceRunNum: number;
  readonly step: number;
  /** Artifact key of the checkpoint folder. */
  readonly checkpointPath: string;
  /** The base model version the run trained (its folder holds config and tokenizer). */
  readonly baseVersionId: string;
}

/** Queues the export of a Creating Train version as a `publish` run (call inside the version's transaction). */
async function queuePublish(trx: Db, actor: Actor, run: RunRow, version: ModelVersionRow, step: number, placement: Placement): Promise<void> {
  const checkpoint = await trx.selectFrom("run_checkpoints").select(["path"])
    .where("run_num", "=", run.num).where("step", "=", step).executeTakeFirstOrThrow();
  const base = await trx.selectFrom("model_versions").select(["id"]).where("num", "=", run.base_model_version_num).executeTakeFirst();
  const spec: PublishRunSpec = {
    specVersion: 1, kind: "publish", versionId: version.id, versionNum: version.num, sourceRunId: run.id, sourceRunNum: run.num,
    step, checkpointPath: checkpoint.path, baseVersionId: base?.id ?? "",
  };
  // The fine-tuning columns repeat the source run's: the row stays valid for every reader of
  // `runs`, and a publish pins the base model against deletion while it runs.
  await enqueueRun(trx, actor, {
    id: `publish-${version.id}`, kind: "publish", jobNum: run.job_num, description: `publish ${run.id} step ${step} as ${version.id}`,
    trainMode: run.train_mode, parameterScale: run.parameter_scale, modelVersionNum: run.base_model_version_num, spec,
    reason: `publish ${version.id}`, placement,
  });
}

/**
 * The worker's last step of a publish, inside its fenced transaction: the version turns Ready
 * with its folder and size, or Fail with the reason. False when it is no longer Creating.
 *
 * @example await settlePublishedVersion(trx, { accessKey: "worker-1" }, 12, { status: "Ready", artifactPath: "models/amv-…/", sizeBytes: 1234 })
 */
export async function settlePublishedVersion(
  trx: Db, actor: Actor, versionNum: number,
  outcome: { status: "Ready"; artifactPath: string; sizeBytes: number } | { status: "Fail"; failReason: string },
): Promise<boolean> {
  const row = await trx.selectFrom("model_versions").select(["id", "status"]).where("num", "=", versionNum).executeTakeFirst();
  if (row === undefined || row.status !== "Creating") return false;
  const patch = outcome.status === "Ready"
    ? { status: "Ready", fail_reason: null, artifact_path: outcome.artifactPath, size_bytes: outcome.sizeBytes, modified_at: nowIso() }
    : { status: "Fail", fail_reason: outcome.failReason.slice(0, 2_000), modified_at: nowIso() };
  const updated = await trx.updateTable("model_versions").set(patch).where("num", "=", versionNum).where("status", "=", "Creating").executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) return false;
  await appendEvent(trx, {
    objectKind: "model_version", objectId: row.id, actor: actor.accessKey, from: "Creating", to: outcome.status,
    ...(outcome.status === "Fail" ? { reason: outcome.failReason.slice(0, 1_000) } : {}),
  });
  // A version an OpenAI job's success published ends that job (its webhook event, same transaction).
  await recordEndingOfVersion(trx, actor, versionNum, outcome.status, outcome.status === "Fail" ? outcome.failReason : undefined);
  return true;
}

/**
 * A run spec's `autoPublish`, inside the fenced transaction that finishes the run Succeeded: its
 * latest checkpoint becomes a Creating Train version of the set `setName` (made when missing) and
 * the same transaction queues its `publish` run, as publishFromRun does for a caller. A run that
 * saved no checkpoint publishes nothing (its readers see a succeeded run without a version).
 *
 * @example settle: (trx) => publishFinalCheckpoint(trx, { accessKey: run.owner }, run.num, { setName: "ft-abc", poolId: "default" })
 */
export async function publishFinalCheckpoint(
  trx: Db, actor: Actor, runNum: number, target: { readonly setName: string; readonly poolId: string },
): Promise<ModelVersionRecord | null> {
  const run = await trx.selectFrom("runs").selectAll().where("num", "=", runNum).executeTakeFirstOrThrow();
  const last = await trx.selectFrom("run_checkpoints").select(["step"]).where("run_num", "=", runNum)
    .orderBy("step", "desc").limit(1).executeTakeFirst();
  if (last === undefined) return null;
  const base = await trx.selectFrom("model_versions").select(["architecture", "config_summary"])
    .where("num", "=", run.base_model_version_num).executeTakeFirst();
  const set = (await findSetByName(trx, target.setName))
    ?? await insertModelSet(trx, actor, { name: target.setName, modelType: "Text2Text", nameField: "autoPublish.setName" });
  const version = await insertCreatingVersion(trx, actor, {
    id: newId("modelVersion"), setNum: set.num, description: `${run.id} step ${last.step}`, sourceType: "Train",
    sourceRunNum: run.num, sourceStep: last.step, architecture: base?.architecture ?? null, configSummary: base?.config_summary ?? null,
  });
  await queuePublish(trx, actor, run, version, last.step, { poolId: target.poolId, nodes: 1, processesPerNode: 1 });
  return toModelVersionRecord(version);
}
