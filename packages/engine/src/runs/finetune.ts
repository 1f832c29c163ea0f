import { join } from "node:path";
import { z } from "zod";
import { SUPPORTED_PARAMETER_SCALES, SailfinError, TRAIN_MODES, RuntimeHyper, runtimeHyper, type RuntimeFinetuneSpec } from "@sailfin/contract";
import type { ResolvedBaseModelConfig } from "../models/base-models.js";
import { folderKey, isMissingArtifact } from "../artifacts/run-files.js";
import { versionFilesKey } from "../models/model-rows.js";
import { publishFinalCheckpoint } from "../models/publish-from-run.js";
import { recordEndingOfRun } from "../openai/job-endings.js";
import { SYSTEM_ACTOR } from "../resources.js";
import type { FinetuneRunSpec } from "../finetune/records.js";
import type { PreparedRunData } from "../finetune/prepare-data.js";
import type { RunDeps, RuntimeSettings } from "./deps.js";
import { defineRunKind } from "./define.js";
import { failed, type RunOutcome } from "./outcome.js";
import { runtimeFailure } from "./runtime-failure.js";

/** The payload of a `finetune` run (written by createRun). */
export const finetuneSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("finetune"),
  jobId: z.string(),
  trainMode: z.enum(TRAIN_MODES),
  parameterScale: z.enum(SUPPORTED_PARAMETER_SCALES),
  baseModel: z.object({
    name: z.string(), setId: z.string(), versionId: z.string(), versionNum: z.int(),
    config: z.custom<ResolvedBaseModelConfig>((v) => typeof v === "object" && v !== null, "expected the resolved model config"),
  }),
  dataset: z.object({
    sourceType: z.literal("Platform"),
    splitRatio: z.number(),
    versions: z.array(z.object({
      versionId: z.string(), versionNum: z.int(), groupId: z.string(), dataFormat: z.string(), contentHash: z.string(), samplingRate: z.number(),
      role: z.literal("validation").optional(),
    })),
  }),
  hyperParameters: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.array(z.string())])),
  increment: z.object({
    runId: z.string(), runNum: z.int(), jobId: z.string(), jobNum: z.int(), step: z.int(), checkpointPath: z.string(), parameterScale: z.string(),
  }).nullable(),
  autoPublish: z.object({ setName: z.string(), poolId: z.string() }).optional(),
}) satisfies z.ZodType<FinetuneRunSpec>;

/** Where the parts of a training attempt lie, as absolute paths. */
interface FinetuneRuntimeInput {
  readonly runId: string;
  readonly spec: FinetuneRunSpec;
  readonly modelDir: string;
  readonly data: Pick<PreparedRunData, "trainDir" | "validationDir" | "validation">;
  readonly outputDir: string;
  /** The checkpoint an incremental run starts from. */
  readonly initCheckpoint: string | null;
  /** The run's latest checkpoint, resumed by a retried attempt. */
  readonly resumeFrom: string | null;
  readonly settings: RuntimeSettings;
}

/**
 * The `finetune` recipe's spec.json. Hyper-parameters go through the contract's `runtimeHyper`
 * (the one definition says which reach the runtime and in what form).
 *
 * @example finetuneRuntimeSpec({ runId, spec, modelDir, data, outputDir, initCheckpoint: null, resumeFrom: null, settings })
 */
export function finetuneRuntimeSpec(input: FinetuneRuntimeInput): RuntimeFinetuneSpec {
  const { spec } = input;
  return {
    version: 1,
    runId: input.runId,
    trainMode: spec.trainMode,
    parameterScale: spec.parameterScale,
    modelDir: input.modelDir,
    initCheckpoint: input.initCheckpoint,
    data: { train: input.data.trainDir, validation: input.data.validation.rows > 0 ? input.data.validationDir : null },
    outputDir: input.outputDir,
    resumeFrom: input.resumeFrom,
    hyper: runtimeHyper(spec.parameterScale, spec.hyperParameters),
    device: input.settings.device,
    precision: input.settings.precision,
  };
}

/**
 * One attempt of a fine-tuning run: token shards (cached), spec.json (resuming from the run's
 * latest recorded checkpoint on a retry), the runtime, its events recorded as they come.
 */
export async function runFinetune(spec: FinetuneRunSpec, deps: RunDeps): Promise<RunOutcome> {
  const { run, reads, files } = deps;
  // The runtime would refuse bad hyper-parameters too, as the user's error: said here before the data is tokenized.
  const hyper = RuntimeHyper.safeParse(runtimeHyper(spec.parameterScale, spec.hyperParameters));
  if (!hyper.success) {
    const issue = hyper.error.issues[0]!;
    return failed("user", `hyper.${issue.path.join(".")}: ${issue.message}`);
  }
  const base = await reads.modelVersion({ num: spec.baseModel.versionNum });
  if (base === null) return failed("user", `the base model version ${spec.baseModel.versionId} no longer exists`);
  const modelKey = versionFilesKey(base);
  let data: PreparedRunData;
  try {
    data = await reads.prepareTrainingData(spec, modelKey);
  } catch (error) {
    if ((error instanceof SailfinError && error.id === "InvalidParameter") || isMissingArtifact(error)) return failed("user", `training data: ${error.message}`);
    return failed("system", `preparing training data failed: ${(error as Error).message}`);
  }

  // A retry (crash, lost lease) or a requeue (which keeps the attempt number) resumes from the
  // latest checkpoint this run recorded, and drops what the ended attempt logged after it, so every
  // step is recorded once (on a run's very first attempt there is nothing to drop).
  const latest = await reads.latestCheckpoint(run.num);
  if (!(await deps.forgetAfterStep(latest?.step ?? 0))) return { kind: "lost" };

  // Checkpoints are written below the output folder; on a remote store each is uploaded before
  // its row is recorded (RunDeps.runRuntime), and a retry elsewhere downloads the one it resumes.
  const outputDir = await files.output(`runs/${run.id}/`);
  let modelDir: string;
  let initCheckpoint: string | null;
  try {
    modelDir = await files.input(folderKey(modelKey));
    initCheckpoint = spec.increment === null ? null : await files.input(folderKey(spec.increment.checkpointPath));
  } catch (error) {
    if (isMissingArtifact(error)) return failed("user", `the base model or the checkpoint to start from is gone: ${error.message}`);
    throw error;
  }
  const resumeFrom = latest === null ? null : await files.input(folderKey(latest.path));
  const runtime = await deps.runRuntime({
    recipe: "finetune", jobKey: `${run.id}/finetune`, specPath: join(outputDir, `spec.attempt-${run.attempt}.json`),
    spec: finetuneRuntimeSpec({ runId: run.id, spec, modelDir, data, outputDir, initCheckpoint, resumeFrom, settings: deps.settings }),
    keepCheckpoints: Number(spec.hyperParameters.checkpointCount ?? 1),
    ...(latest === null ? {} : { recordedThroughStep: latest.step }),
    ranks: run.ranks,
  });
  if (runtime.kind === "lost") return runtime;
  const { ending, result } = runtime;
  if (ending?.kind === "done" && result.exitCode === 0) {
    const autoPublish = spec.autoPublish;
    return {
      kind: "done", reason: `training finished at step ${ending.step}`,
      ...(runtime.trainedTokens === undefined ? {} : { result: { trainedTokens: runtime.trainedTokens } }),
      ...(autoPublish === undefined ? {} : { settle: async (trx) => { await publishFinalCheckpoint(trx, { accessKey: run.owner }, run.num, autoPublish); } }),
    };
  }
  if (ending?.kind === "stopped" && result.exitCode === 0 && deps.signal.aborted) {
    return { kind: "stopped", reason: `stopped at step ${ending.step}${ending.checkpoint === null ? "" : " (checkpoint saved)"}` };
  }
  // A stop this worker did not ask for: the cluster's (a Slurm time limit's TERM, a preemption, a
  // requeue, a node failure: the executor says which), or another process's (a worker that lost
  // the lease stopping the job its successor now follows). Not the run's fault, so no attempt is
  // spent: back to the queue, resuming from the latest checkpoint (the one saved on TERM, if any).
  const userError = ending?.kind === "error" && ending.errorKind === "user";
  if (!deps.signal.aborted && !userError && (result.interruptedBy !== undefined || (ending?.kind === "stopped" && result.exitCode === 0))) {
    const step = (await reads.latestCheckpoint(run.num))?.step ?? 0;
    const by = result.interruptedBy ?? "a stop from outside the worker";
    const how = ending?.kind === "stopped" ? `at step ${ending.step}` : "before the runtime could save a checkpoint";
    return { kind: "requeued", reason: `requeued after ${by} ${how}`, step };
  }
  const failure = runtimeFailure("finetune", ending, result);
  return failed(failure.failure, failure.reason);
}

export const finetuneRun = defineRunKind({
  kind: "finetune", noun: "fine-tuning", readAction: "tuning:read", concurrency: "training", needsRuntime: true, spec: finetuneSpecSchema, run: runFinetune,
  // A run that is an OpenAI job's ends that job (its webhook event, in the transaction that ends the run).
  onEnded: (trx, spec, ending) => recordEndingOfRun(trx, SYSTEM_ACTOR, spec.jobId, ending.status, ending.reason),
});
