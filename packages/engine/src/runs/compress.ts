import { join } from "node:path";
import { z } from "zod";
import { SailfinError, type RuntimeQuantizeSpec } from "@sailfin/contract";
import { QUANT_WEIGHTS, type CompResult, type CompRunSpec, type QuantWeight } from "../compression/comp-tasks.js";
import { compOutputKey, settleCompression } from "../compression/settle.js";
import { folderKey } from "../artifacts/run-files.js";
import { versionFilesKey } from "../models/model-rows.js";
import type { RunDeps } from "./deps.js";
import { defineRunKind, parseStoredSpec } from "./define.js";
import { finetuneSpecSchema } from "./finetune.js";
import { failed, type RunOutcome } from "./outcome.js";
import { folderSize } from "./publish.js";
import { runtimeFailure } from "./runtime-failure.js";

/** Rows of the held-out split the perplexity comparison reads (enough for a stable figure, seconds on CPU). */
const EVAL_MAX_ROWS = 64;

/** The payload of a `compress` run (written by createCompTask). */
const compressSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("compress"),
  sourceVersionId: z.string(),
  sourceVersionNum: z.int(),
  targetSetNum: z.int(),
  outputVersionId: z.string(),
  weight: z.enum(Object.keys(QUANT_WEIGHTS) as [QuantWeight, ...QuantWeight[]]),
  bits: z.union([z.literal(4), z.literal(8)]),
  groupSize: z.int().nullable(),
  config: z.record(z.string(), z.unknown()),
}) satisfies z.ZodType<CompRunSpec>;

/** The `quantize` recipe's spec.json. @example quantizeRuntimeSpec(spec, { modelDir, outputDir, evalSplit: null }) */
function quantizeRuntimeSpec(
  spec: CompRunSpec, paths: { readonly modelDir: string; readonly outputDir: string; readonly evalSplit: string | null },
): RuntimeQuantizeSpec {
  return {
    version: 1, modelDir: paths.modelDir, outputDir: paths.outputDir, bits: spec.bits, groupSize: spec.groupSize ?? 128, scheme: spec.weight,
    evalSplit: paths.evalSplit, evalMaxRows: EVAL_MAX_ROWS,
  };
}

/** What a finished `quantize` job measured, from its `done` outputs and the folders' sizes. */
function compressionResult(spec: CompRunSpec, outputs: Record<string, unknown>, sizes: { before: number; after: number }): CompResult {
  return {
    modelId: spec.outputVersionId,
    sizeBeforeBytes: sizes.before,
    sizeAfterBytes: sizes.after,
    perplexityBefore: typeof outputs.perplexityBefore === "number" ? outputs.perplexityBefore : null,
    perplexityAfter: typeof outputs.perplexityAfter === "number" ? outputs.perplexityAfter : null,
    seconds: typeof outputs.seconds === "number" ? outputs.seconds : 0,
  };
}

/**
 * One attempt of a compression: the runtime's `quantize` recipe writes the quantized folder into
 * the output version's place (`models/<outputVersionId>/`) and measures perplexity before and
 * after on the held-out split of the source's training data (when the source was trained here);
 * the output version is created Ready in the transaction that finishes the run.
 */
export async function runCompress(spec: CompRunSpec, deps: RunDeps): Promise<RunOutcome> {
  const { run, reads, files } = deps;
  const source = await reads.modelVersion({ num: spec.sourceVersionNum });
  if (source === null || source.status !== "Ready") {
    return failed("user", `the source model version ${spec.sourceVersionId} no longer exists or is not Ready`);
  }
  const modelKey = folderKey(versionFilesKey(source));
  const evalSplit = await heldOutSplit(deps, source.sourceRunNum, modelKey);

  const outputKey = compOutputKey(spec);
  await files.discard(outputKey);
  const outputDir = await files.output(outputKey);
  const workDir = await files.output(`runs/${run.id}/`);
  const modelDir = await files.input(modelKey);
  const runtime = await deps.runRuntime({
    recipe: "quantize", jobKey: `${run.id}/quantize`, specPath: join(workDir, `spec.attempt-${run.attempt}.json`),
    spec: quantizeRuntimeSpec(spec, { modelDir, outputDir, evalSplit }), keepCheckpoints: 1,
  });
  if (runtime.kind === "lost") return runtime;
  const { ending, result } = runtime;
  if (ending?.kind === "done" && result.exitCode === 0) {
    if (!(await reads.modelSetExists(spec.targetSetNum))) {
      await files.discard(outputKey);
      return failed("user", "the target model set was deleted while compressing");
    }
    const after = await folderSize(outputDir);
    const measured = compressionResult(spec, ending.outputs, { before: await folderSize(modelDir), after });
    // Uploaded before the run settles: the output version is created Ready only once the store holds it whole.
    await files.commit(outputKey);
    return {
      kind: "done", reason: `quantized ${spec.sourceVersionId} to ${spec.weight} as ${spec.outputVersionId}`, result: measured,
      settle: (trx) => settleCompression(trx, { accessKey: run.owner }, run.num, spec, after),
    };
  }
  await files.discard(outputKey);
  if (ending?.kind === "stopped") return { kind: "stopped", reason: "stopped while quantizing" };
  const failure = runtimeFailure("quantize", ending, result);
  return failed(failure.failure, failure.reason);
}

/**
 * The validation split of the data the source version was trained on, tokenized for the source
 * (cached), or null: an imported model has no training data here, and a run without a held-out
 * split has nothing to measure on.
 */
async function heldOutSplit(deps: RunDeps, sourceRunNum: number | null, modelKey: string): Promise<string | null> {
  if (sourceRunNum === null) return null;
  const source = await deps.reads.storedRun(sourceRunNum);
  if (source === null || source.kind !== "finetune") return null;
  const parsed = parseStoredSpec(finetuneSpecSchema, source.spec);
  if ("error" in parsed) return null;
  try {
    const data = await deps.reads.prepareTrainingData(parsed.spec, modelKey);
    return data.validation.rows > 0 ? data.validationDir : null;
  } catch (error) {
    // The training data may have been deleted since: compress anyway, without the measurement.
    if (!(error instanceof SailfinError)) deps.log.warn({ err: error }, "no held-out split for the compression's perplexity check");
    return null;
  }
}

export const compressRun = defineRunKind({
  kind: "compress", noun: "compression", readAction: "comp:read", concurrency: "file-work", needsRuntime: true, spec: compressSpecSchema, run: runCompress,
});
