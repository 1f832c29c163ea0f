import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SailfinError } from "@sailfin/contract";
import { compOutputKey, prepareSpecData, settleCompression, type CompResult, type CompRunSpec, type FinetuneRunSpec, type Lease } from "@sailfin/engine";
import { localArtifacts, runtimeFailure, type HandlerContext, type Outcome } from "../outcome.js";
import { RuntimeLink } from "../runtime-link.js";
import { folderSize } from "./publish.js";

/** Rows of the held-out split the perplexity comparison reads (enough for a stable figure, seconds on CPU). */
const EVAL_MAX_ROWS = 64;

/**
 * One attempt of a compression: the runtime's `quantize` recipe writes the quantized folder into
 * the output version's place (`models/<outputVersionId>/`) and measures perplexity before and
 * after on the held-out split of the source's training data (when the source was trained here);
 * the output version is created Ready in the transaction that finishes the run.
 */
export async function runCompress(ctx: HandlerContext, lease: Lease): Promise<Outcome> {
  const { res } = ctx;
  const spec = JSON.parse(lease.row.spec) as CompRunSpec;
  const store = localArtifacts(res);
  if (store === null) return { kind: "failed", failure: "system", reason: "compression needs a local artifact store" };
  const { root, local } = store;
  const source = await res.db.selectFrom("model_versions").select(["id", "artifact_path", "source_run_num", "status"])
    .where("num", "=", spec.sourceVersionNum).executeTakeFirst();
  if (source === undefined || source.status !== "Ready") {
    return { kind: "failed", failure: "user", reason: `the source model version ${spec.sourceVersionId} no longer exists or is not Ready` };
  }
  const modelKey = source.artifact_path ?? `models/${source.id}/`;
  const evalSplit = await heldOutSplit(ctx, source.source_run_num, modelKey);

  const outputDir = local(compOutputKey(spec));
  await rm(outputDir, { recursive: true, force: true });
  const workDir = local(`runs/${lease.runId}`);
  await mkdir(workDir, { recursive: true });
  const specPath = join(workDir, `spec.attempt-${lease.attempt}.json`);
  await writeFile(specPath, `${JSON.stringify({
    version: 1, modelDir: local(modelKey), outputDir, bits: spec.bits, groupSize: spec.groupSize ?? 128, scheme: spec.weight,
    evalSplit, evalMaxRows: EVAL_MAX_ROWS,
  }, null, 2)}\n`);
  const link = new RuntimeLink({ db: res.db, lease, artifactRoot: root, keepCheckpoints: 1, onLeaseLost: ctx.leaseLost });
  const result = await ctx.executor.run({ recipe: "quantize", specPath, signal: ctx.signal, onLine: (line) => link.line(line) });
  if (!(await link.close())) return { kind: "lost" };
  const ending = link.ending;
  if (ending?.kind === "done" && result.exitCode === 0) {
    const target = await res.db.selectFrom("model_sets").select("num").where("num", "=", spec.targetSetNum).executeTakeFirst();
    if (target === undefined) {
      await rm(outputDir, { recursive: true, force: true });
      return { kind: "failed", failure: "user", reason: "the target model set was deleted while compressing" };
    }
    const out = ending.outputs;
    const sizeAfterBytes = await folderSize(outputDir);
    const measured: CompResult = {
      modelId: spec.outputVersionId,
      sizeBeforeBytes: await folderSize(local(modelKey)),
      sizeAfterBytes,
      perplexityBefore: typeof out.perplexityBefore === "number" ? out.perplexityBefore : null,
      perplexityAfter: typeof out.perplexityAfter === "number" ? out.perplexityAfter : null,
      seconds: typeof out.seconds === "number" ? out.seconds : 0,
    };
    return {
      kind: "done", reason: `quantized ${spec.sourceVersionId} to ${spec.weight} as ${spec.outputVersionId}`, result: measured,
      settle: (trx) => settleCompression(trx, { accessKey: ctx.owner }, lease.runNum, spec, sizeAfterBytes),
    };
  }
  await rm(outputDir, { recursive: true, force: true });
  if (ending?.kind === "stopped") return { kind: "stopped", reason: "stopped while quantizing" };
  return runtimeFailure(ending, result);
}

/**
 * The validation split of the data the source version was trained on, tokenized for the source
 * (cached), or null: an imported model has no training data here, and a run without a held-out
 * split has nothing to measure on.
 */
async function heldOutSplit(ctx: HandlerContext, sourceRunNum: number | null, modelKey: string): Promise<string | null> {
  if (sourceRunNum === null) return null;
  const run = await ctx.res.db.selectFrom("runs").select(["spec", "kind"]).where("num", "=", sourceRunNum).executeTakeFirst();
  if (run === undefined || run.kind !== "finetune") return null;
  try {
    const data = await prepareSpecData(ctx.res, JSON.parse(run.spec) as FinetuneRunSpec, modelKey);
    return data.validation.rows > 0 ? data.validationDir : null;
  } catch (error) {
    // The training data may have been deleted since: compress anyway, without the measurement.
    if (!(error instanceof SailfinError)) ctx.log.warn({ err: error }, "no held-out split for the compression's perplexity check");
    return null;
  }
}
