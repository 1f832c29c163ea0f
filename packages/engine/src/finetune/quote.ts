import type { FineTuningTaskQuote } from "@sailfin/contract";
import { versionFilesKey } from "../models/model-rows.js";
import type { EngineResources } from "../resources.js";
import { resolveRun, type CreateRunInput } from "./create-run.js";
import { prepareSpecData } from "./prepare-data.js";
import type { FinetuneRunSpec } from "./records.js";

/**
 * A quote for a prospective fine-tuning task (Sailfin extension `DescribeFineTuningTaskQuote`):
 * how many tokens it trains, how many optimizer steps that is, and how long it should take at
 * the throughput this installation measured for the same model shape and parameter scale.
 *
 * It tokenizes exactly as the task would (same resolved spec, same pipeline) through the token
 * cache, so the task that follows starts without tokenizing again.
 */
type FinetuneQuote = FineTuningTaskQuote;

/** Finished runs read for the throughput (the newest). */
const THROUGHPUT_RUNS = 50;

/**
 * Quotes a prospective run without queueing it; every problem the create would refuse is
 * refused the same way, naming the same field.
 *
 * @example const quote = await quoteRun(res, { job: { id: "job-…" }, datasets: [...], splitRatio: 20 });
 */
export async function quoteRun(res: EngineResources, input: CreateRunInput): Promise<FinetuneQuote> {
  const { spec, base } = await resolveRun(res, input);
  const version = await res.db.selectFrom("model_versions").select(["id", "artifact_path"]).where("num", "=", base.versionNum).executeTakeFirstOrThrow();
  const data = await prepareSpecData(res, spec, versionFilesKey({ id: version.id, artifactPath: version.artifact_path }));
  const hyper = spec.hyperParameters as Record<string, unknown>;
  const epochs = Number(hyper.epoch ?? 1);
  // The runtime's step arithmetic (runtime/sailfin_runtime/data.py Batches): a preference
  // example is two rows; one optimizer step takes batchSize × accumulation examples.
  const examples = data.train.kind === "preference" ? Math.floor(data.train.rows / 2) : data.train.rows;
  const perStep = Number(hyper.batchSize ?? 8) * Math.max(1, Number(hyper.gradientAccumulationSteps ?? 1));
  const stepsPerEpoch = Math.max(1, Math.ceil(examples / perStep));
  const throughput = await measuredThroughput(res, spec);
  const trainedTokens = data.train.trainedTokens * epochs;
  return {
    trainMode: spec.trainMode, parameterScale: spec.parameterScale, epochs,
    trainRows: data.train.rows, examples, validationRows: data.validation.rows,
    trainedTokensPerEpoch: data.train.trainedTokens, trainedTokens, stepsPerEpoch, totalSteps: stepsPerEpoch * epochs,
    cached: data.cached,
    tokensPerSecond: throughput.tokensPerSecond, throughputRuns: throughput.runs,
    etaSeconds: throughput.tokensPerSecond === null ? null : Math.round(trainedTokens / throughput.tokensPerSecond),
  };
}

/**
 * Median of the per-run median trained tokens/s over finished runs whose base model has the
 * same shape (config summary) and parameter scale: the same work on this installation's workers.
 */
async function measuredThroughput(res: EngineResources, spec: FinetuneRunSpec): Promise<{ tokensPerSecond: number | null; runs: number }> {
  const shape = JSON.stringify(spec.baseModel.config);
  const candidates = await res.db.selectFrom("runs").select(["num", "spec"])
    .where("kind", "=", "finetune").where("status", "=", "Succeeded").where("parameter_scale", "=", spec.parameterScale)
    .orderBy("num", "desc").limit(THROUGHPUT_RUNS).execute();
  const same = candidates.filter((r) => JSON.stringify((JSON.parse(r.spec) as FinetuneRunSpec).baseModel.config) === shape).map((r) => r.num);
  if (same.length === 0) return { tokensPerSecond: null, runs: 0 };
  const points = await res.db.selectFrom("run_metrics").select(["run_num", "tokens_per_s"])
    .where("run_num", "in", same).where("tokens_per_s", "is not", null).execute();
  const perRun = same.map((num) => median(points.filter((p) => p.run_num === num).map((p) => Number(p.tokens_per_s))))
    .filter((v): v is number => v !== null && v > 0);
  return { tokensPerSecond: median(perRun), runs: perRun.length };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
