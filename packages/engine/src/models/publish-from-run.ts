import { SailfinError, isIdOf, newId, v2RunStatus, type RunStatus } from "@sailfin/contract";
import type { Selectable } from "kysely";
import type { FinetuneJobTable, RunTable } from "@sailfin/store";
import { SYSTEM_ACTOR, type Actor, type EngineResources } from "../resources.js";
import { copyFolder } from "./copy-folder.js";
import { insertModelSet } from "./create-model-set.js";
import {
  finishVersion, insertCreatingVersion, versionFolder, withVersionNumberRetry,
  type IdRef, type ModelSetRow, type ModelVersionRow,
} from "./model-rows.js";

/**
 * Publishing a fine-tuning run's checkpoint as a model version (V2 `CreateCustomModel` with
 * `sourceType: "Train"`, V1 `publishTrainModel`). Only a run that finished (`Succeeded`) with
 * at least one recorded checkpoint can be published; the version starts `Creating` while the
 * checkpoint's files are copied into `models/<versionId>/`, then turns Ready (or Fail).
 *
 * `run_checkpoints.path` is an artifact-store key: a folder (the runtime writes one per saved
 * step) or a single file.
 */
export type RunRow = Selectable<RunTable>;
export type JobRow = Selectable<FinetuneJobTable>;

export interface PublishFromRunInput {
  /** A new model set (V1 `isNewModel`), or an existing one. */
  readonly target:
    | { readonly kind: "new"; readonly name: string; readonly labels?: readonly string[]; readonly nameField: string }
    | { readonly kind: "existing"; readonly set: ModelSetRow };
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

export interface PublishedVersion {
  readonly set: ModelSetRow;
  readonly version: ModelVersionRow;
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
    const state = run.status === "Succeeded" ? "Done but saved no checkpoint" : `status ${v2RunStatus(run.status as RunStatus)}`;
    throw new SailfinError("InvalidParameter", {
      field: input.runField,
      detail: `task ${run.id} has not finished with checkpoints (${state}); only a Done task with checkpoints can be published`,
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
      const set = input.target.kind === "new"
        ? await insertModelSet(trx, actor, {
            name: input.target.name, modelType: "Text2Text", nameField: input.target.nameField,
            ...(input.target.labels === undefined ? {} : { labels: input.target.labels }),
          })
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
      return { set, version };
    }),
  );
  startTrainCopy(res, published.version.num);
  return published;
}

/** A run by number or `task-…` id, or NotFound naming `field`. */
export async function findRun(res: EngineResources, ref: IdRef, field: string): Promise<RunRow> {
  let q = res.db.selectFrom("runs").selectAll();
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

export function startTrainCopy(res: EngineResources, versionNum: number): void {
  res.background.run(`model-publish:${versionNum}`, () => runTrainCopy(res, versionNum));
}

/** The background half: copy the checkpoint's files, then Ready with the size, or Fail. */
export async function runTrainCopy(res: EngineResources, versionNum: number): Promise<void> {
  const row = await res.db.selectFrom("model_versions").selectAll().where("num", "=", versionNum).executeTakeFirst();
  if (row === undefined || row.status !== "Creating" || row.source_type !== "Train") return;
  const dest = versionFolder(row.id);
  let outcome: Parameters<typeof finishVersion>[3];
  try {
    // A previous attempt (a process that stopped half-way) may have left files: start clean.
    await res.artifacts.delete(dest);
    const checkpoint = await res.db
      .selectFrom("run_checkpoints").select(["path"])
      .where("run_num", "=", row.source_run_num ?? -1).where("step", "=", row.source_step ?? -1)
      .executeTakeFirst();
    if (checkpoint === undefined) throw new PublishError(`the checkpoint at step ${row.source_step} no longer exists`);
    const bytes = await copyCheckpoint(res, checkpoint.path, dest);
    outcome = { status: "Ready", artifactPath: dest, sizeBytes: bytes };
  } catch (error) {
    if (!(error instanceof PublishError)) res.log.error({ err: error, versionId: row.id }, "model publish failed unexpectedly");
    outcome = { status: "Fail", failReason: error instanceof PublishError ? error.message : `internal error while publishing: ${(error as Error).message}` };
  }
  if (outcome.status === "Fail") await res.artifacts.delete(dest);
  const applied = await finishVersion(res, SYSTEM_ACTOR, versionNum, outcome);
  if (!applied) await res.artifacts.delete(dest);
}

class PublishError extends Error {}

async function copyCheckpoint(res: EngineResources, path: string, dest: string): Promise<number> {
  if (!path.endsWith("/")) {
    const single = await res.artifacts.stat(path);
    if (single !== null) {
      const stored = await res.artifacts.put(dest + path.slice(path.lastIndexOf("/") + 1), await res.artifacts.get(path));
      return stored.size;
    }
  }
  const folder = path.endsWith("/") ? path : `${path}/`;
  const copied = await copyFolder(res.artifacts, folder, dest, { recursive: true });
  if (copied.files.length === 0) throw new PublishError(`the checkpoint files at ${path} are missing`);
  return copied.bytes;
}
