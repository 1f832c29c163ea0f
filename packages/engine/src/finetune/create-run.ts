import {
  newId, SailfinError, STATE_WORD, TRAIN_MODE_DATA_FORMATS, TRAIN_MODES, type TrainMode,
} from "@sailfin/contract";
import type { Db } from "@sailfin/store";
import { findReleasedDatasetVersion, type ReleasedDatasetVersion } from "../datasets/index.js";
import { resolveBaseModel, type ResolvedBaseModel } from "../models/index.js";
import { enqueueRun } from "../queue/enqueue.js";
import { placeTrainingRun, type Placement, type ResourceRequest } from "../pools/index.js";
import type { Actor, EngineResources } from "../resources.js";
import { checkpointsOf, findJob, findRun } from "./find.js";
import { assertInputsRemain, lockJob } from "./lock.js";
import { resolveParameterScale } from "./parameter-scale.js";
import type { FinetuneJobRecord, FinetuneRunRecord, FinetuneRunSpec } from "./records.js";
import type { FinetuneRef } from "./refs.js";
import { validateHyperParameters } from "./validate-hyper-parameters.js";

/** One training dataset as the request names it. */
export interface RunDatasetInput {
  /** `Platform` (a released dataset version); `Bos`/`Afs` are refused for now. */
  readonly sourceType: string;
  /** Request field of the source type (`datasetConfig.sourceType`, `trainset[0].type`). */
  readonly sourceField: string;
  /** The dataset version; undefined when the request left it out. */
  readonly ref: FinetuneRef | undefined;
  /** Request field of the reference (`datasetConfig.versions[0].versionId`, `trainset[0].id`). */
  readonly field: string;
  /** [0.01, 10], default 1 (already range-checked by the request schema). */
  readonly samplingRate?: number;
  /** `validation`: a separate evaluation set, never trained on (OpenAI's `validation_file`). */
  readonly role?: "validation";
}

interface IncrementInput {
  readonly ref: FinetuneRef;
  /** V1 names the base run's job too: it must match. */
  readonly jobRef?: FinetuneRef;
  readonly jobField?: string;
  readonly step?: number;
  /**
   * What to do when the base run saved several checkpoints and no step is given: V2 requires
   * `incrementCheckpointStep`; V1 has no such field and takes the latest.
   */
  readonly whenSeveral: "require" | "latest";
}

/** Request field names, for errors; the defaults are V2's. */
interface CreateRunFields {
  readonly job?: string;
  readonly parameterScale?: string;
  readonly hyperParameters?: string;
  readonly splitRatio?: string;
  readonly increment?: string;
  readonly incrementStep?: string;
}

export interface CreateRunInput {
  readonly job: FinetuneRef;
  readonly description?: string;
  /** Defaults to the job's parameter scale, else FullFineTuning. */
  readonly parameterScale?: string;
  readonly hyperParameters?: Record<string, unknown>;
  /** V1 bodies spell hyper-parameter keys in any case. */
  readonly caseInsensitiveKeys?: boolean;
  readonly datasets: readonly RunDatasetInput[];
  /** Percent held out for evaluation (the request schema checks its own range). */
  readonly splitRatio: number;
  readonly increment?: IncrementInput;
  /** The pool, nodes and ranks a node (V2 `resourceConfig`); left out: the default pool's. */
  readonly resources?: ResourceRequest;
  readonly fields?: CreateRunFields;
  /** Publish the final checkpoint when the run succeeds (FinetuneRunSpec.autoPublish). */
  readonly autoPublish?: FinetuneRunSpec["autoPublish"];
  /**
   * More rows to write in the transaction that queues the run (another dialect's record of it, such
   * as OpenAI's `openai_jobs` row): the run and they exist together or not at all.
   */
  readonly alsoWrite?: (trx: Db, runNum: number) => Promise<void>;
}

/** A run as createRun would queue it: every reference checked, the frozen spec resolved. */
interface ResolvedRun {
  readonly spec: FinetuneRunSpec;
  readonly job: Awaited<ReturnType<typeof findJob>>;
  readonly base: ResolvedBaseModel;
  readonly versions: FinetuneRunSpec["dataset"]["versions"];
  readonly increment: FinetuneRunSpec["increment"];
  readonly fields: Required<CreateRunFields>;
  readonly trainMode: TrainMode;
  readonly parameterScale: FinetuneRunSpec["parameterScale"];
  readonly placement: Placement;
}

/**
 * Everything createRun checks, without queueing anything: also the quote's input (the quote
 * must see exactly the data and settings the task would train on).
 */
export async function resolveRun(res: EngineResources, input: CreateRunInput): Promise<ResolvedRun> {
  const fields = {
    job: "jobId", parameterScale: "parameterScale", hyperParameters: "hyperParameterConfig",
    splitRatio: "datasetConfig.splitRatio", increment: "incrementTaskId", incrementStep: "incrementCheckpointStep",
    ...input.fields,
  };
  const placement = placeTrainingRun(res.pools, input.resources);
  const job = await findJob(res.db, input.job, fields.job);
  if (!(TRAIN_MODES as readonly string[]).includes(job.trainMode)) {
    throw new SailfinError("InvalidParameter", { field: fields.job, detail: `the job's train mode ${job.trainMode} is not supported` });
  }
  const trainMode = job.trainMode as TrainMode;
  const base = await resolveBaseModel(res, job.model);
  if (base === null) {
    throw new SailfinError("InvalidParameter", {
      field: fields.job, detail: `the job's base model ${job.model} is no longer registered (no Ready imported version)`,
    });
  }
  const parameterScale = resolveParameterScale(input.parameterScale ?? job.parameterScale ?? "FullFineTuning", fields.parameterScale);
  const hyperParameters = validateHyperParameters(
    input.hyperParameters,
    { trainMode, parameterScale, config: base.config },
    { field: fields.hyperParameters, caseInsensitive: input.caseInsensitiveKeys ?? false },
  );
  const versions = await resolveDatasets(res, trainMode, input.datasets);
  if (!Number.isFinite(input.splitRatio) || input.splitRatio < 0 || input.splitRatio > 100) {
    throw new SailfinError("InvalidParameter", { field: fields.splitRatio, detail: "must be a percentage" });
  }
  const increment = input.increment === undefined
    ? null
    : await resolveIncrement(res, job, input.increment, fields.increment, fields.incrementStep);

  const spec: FinetuneRunSpec = {
    specVersion: 1,
    kind: "finetune",
    jobId: job.id,
    trainMode,
    parameterScale,
    baseModel: baseModelSpec(base),
    dataset: { sourceType: "Platform", splitRatio: input.splitRatio, versions },
    hyperParameters,
    increment,
    ...(input.autoPublish === undefined ? {} : { autoPublish: input.autoPublish }),
  };
  return { spec, job, base, versions, increment, fields, trainMode, parameterScale, placement };
}

/**
 * Validates and queues one fine-tuning run (V2 task, V1 job). Every reference is checked first (resolveRun)
 * (job, base model, parameter scale, hyper-parameters, released datasets of a fitting format,
 * the incremental base and its checkpoint); then one transaction re-reads the base model
 * version and the dataset versions under a row lock (a delete may have committed since the
 * checks; see lock.ts), inserts the run, Queued with its fully resolved frozen spec,
 * and its first event. Nothing runs it yet: a worker claims it.
 *
 * @example
 * const run = await createRun(res, actor, { job: { id: "job-…" }, datasets: [{ sourceType: "Platform",
 *   sourceField: "datasetConfig.sourceType", ref: { id: "ds-…" }, field: "datasetConfig.versions[0].versionId" }], splitRatio: 20 });
 */
export async function createRun(res: EngineResources, actor: Actor, input: CreateRunInput): Promise<FinetuneRunRecord> {
  const { spec, job, base, versions, increment, fields, trainMode, parameterScale, placement } = await resolveRun(res, input);
  const id = newId("task");
  await res.db.transaction().execute(async (trx) => {
    if (!(await lockJob(trx, res.dialect, job.num))) {
      throw new SailfinError("NotFound", { field: fields.job, detail: `fine-tuning job ${job.id} does not exist` });
    }
    await assertInputsRemain(trx, res.dialect, {
      base, versions, fields: input.datasets.map((d) => d.field), jobField: fields.job, model: job.model,
      ...(increment == null ? {} : { increment: { runNum: increment.runNum, field: fields.increment } }),
    });
    const runNum = await enqueueRun(trx, actor, {
      id, kind: "finetune", jobNum: job.num, description: input.description ?? "", trainMode, parameterScale,
      modelVersionNum: base.versionNum, spec, datasetHashes: Object.fromEntries(versions.map((v) => [v.versionId, v.contentHash])),
      increment: increment ?? undefined, reason: `created in job ${job.id}`, placement,
    });
    await input.alsoWrite?.(trx, runNum);
  });
  return findRun(res.db, { id }, "taskId");
}

function baseModelSpec(base: ResolvedBaseModel): FinetuneRunSpec["baseModel"] {
  return { name: base.setName, setId: base.setId, versionId: base.versionId, versionNum: base.versionNum, config: base.config };
}

async function resolveDatasets(res: EngineResources, trainMode: TrainMode, datasets: readonly RunDatasetInput[]): Promise<FinetuneRunSpec["dataset"]["versions"][number][]> {
  const fits = TRAIN_MODE_DATA_FORMATS[trainMode];
  const out: FinetuneRunSpec["dataset"]["versions"][number][] = [];
  for (const entry of datasets) {
    if (entry.sourceType !== "Platform") {
      throw new SailfinError("InvalidParameter", {
        field: entry.sourceField,
        detail: entry.sourceType === "Bos" || entry.sourceType === "Afs"
          ? `${entry.sourceType} datasets are not supported yet; import the data as a dataset version and use Platform`
          : "must be Platform",
      });
    }
    if (entry.ref === undefined) throw new SailfinError("InvalidParameter", { field: entry.field, detail: "is required for Platform datasets" });
    const { version, group, format, contentHash } = await releasedVersion(res, entry.ref, entry.field);
    if (!(fits as readonly string[]).includes(format)) {
      throw new SailfinError("InvalidParameter", {
        field: entry.field,
        detail: `dataset version ${version.id} holds ${format} data; ${trainMode} trains on ${fits.join(", ")}`,
      });
    }
    // The same version may be both the training data and the evaluation set (roles differ), not twice either.
    if (out.some((v) => v.versionId === version.id && v.role === entry.role)) {
      throw new SailfinError("InvalidParameter", { field: entry.field, detail: `dataset version ${version.id} is listed twice` });
    }
    out.push({
      versionId: version.id, versionNum: version.num, groupId: group.id, dataFormat: format, contentHash, samplingRate: entry.samplingRate ?? 1,
      ...(entry.role === undefined ? {} : { role: entry.role }),
    });
  }
  return out;
}

/**
 * The released version a request names (NotFound / InvalidParameter naming `field`, from the
 * datasets module). V2 names versions by `ds-` id only: a bare number there is an unknown id,
 * not V1's numeric id (V1 references arrive here as `num`).
 */
async function releasedVersion(res: EngineResources, ref: FinetuneRef, field: string): Promise<ReleasedDatasetVersion> {
  if (ref.id !== undefined && /^\d+$/.test(ref.id)) {
    throw new SailfinError("NotFound", { field, detail: `dataset version ${ref.id} does not exist` });
  }
  return findReleasedDatasetVersion(res, ref.id ?? ref.num, field);
}

async function resolveIncrement(
  res: EngineResources, job: FinetuneJobRecord, input: IncrementInput, field: string, stepField: string,
): Promise<NonNullable<FinetuneRunSpec["increment"]>> {
  let baseJobNum: number | undefined;
  if (input.jobRef !== undefined) baseJobNum = (await findJob(res.db, input.jobRef, input.jobField ?? field)).num;
  const baseRun = await findRun(res.db, input.ref, field, baseJobNum);
  if (baseRun.status !== "Succeeded") {
    throw new SailfinError("InvalidParameter", {
      field, detail: `task ${baseRun.id} has not finished successfully (${STATE_WORD}); incremental training starts from a finished task`,
      state: { kind: "finetune", status: baseRun.status, cancelRequested: baseRun.cancelRequested },
    });
  }
  const baseJob = await findJob(res.db, { num: baseRun.jobNum }, field);
  if (baseJob.model !== job.model) {
    throw new SailfinError("InvalidParameter", {
      field, detail: `task ${baseRun.id} trained ${baseJob.model}; this job trains ${job.model}`,
    });
  }
  const checkpoints = (await checkpointsOf(res.db, [baseRun.num])).get(baseRun.num) ?? [];
  if (checkpoints.length === 0) {
    throw new SailfinError("InvalidParameter", { field, detail: `task ${baseRun.id} saved no checkpoint to continue from` });
  }
  const steps = checkpoints.map((c) => c.step);
  let checkpoint = checkpoints.at(-1)!;
  if (input.step !== undefined) {
    const named = checkpoints.find((c) => c.step === input.step);
    if (named === undefined) {
      throw new SailfinError("InvalidParameter", { field: stepField, detail: `task ${baseRun.id} has no checkpoint at step ${input.step}; steps: ${steps.join(", ")}` });
    }
    checkpoint = named;
  } else if (checkpoints.length > 1 && input.whenSeveral === "require") {
    throw new SailfinError("InvalidParameter", {
      field: stepField, detail: `is required: task ${baseRun.id} saved checkpoints at steps ${steps.join(", ")}`,
    });
  }
  return {
    runId: baseRun.id, runNum: baseRun.num, jobId: baseJob.id, jobNum: baseJob.num, step: checkpoint.step,
    checkpointPath: checkpoint.path, parameterScale: baseRun.parameterScale,
  };
}

