import type { ModelSummary } from "./check-model-files.js";

/**
 * The one reader of `model_versions.config_summary` (written by checkModelFiles at import and
 * copied to training outputs): every field must be there with its type, or the whole summary
 * counts as unknown (null) — a half-read summary would hand fine-tuning a model shape that
 * nothing checked.
 *
 * @example parseConfigSummary(row.config_summary)?.maxPositionEmbeddings
 */
export function parseConfigSummary(text: string | null): ModelSummary | null {
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const positive = (key: keyof ModelSummary) => typeof r[key] === "number" && Number.isSafeInteger(r[key]) && (r[key] as number) > 0;
  const ints: Array<keyof ModelSummary> = [
    "hiddenSize", "intermediateSize", "numLayers", "numHeads", "numKvHeads", "headDim", "vocabSize", "maxPositionEmbeddings", "parameterCount",
  ];
  const strings: Array<keyof ModelSummary> = ["architecture", "modelType", "dtype"];
  const flags: Array<keyof ModelSummary> = ["tieWordEmbeddings", "hasChatTemplate"];
  if (!ints.every(positive) || !strings.every((k) => typeof r[k] === "string") || !flags.every((k) => typeof r[k] === "boolean")) return null;
  // Added by issue 14: summaries written before carry neither, and mean neither (Llama/Qwen2 without them).
  if (r.slidingWindow !== undefined && r.slidingWindow !== null && !positive("slidingWindow")) return null;
  if (r.ropeScaling !== undefined && r.ropeScaling !== null && typeof r.ropeScaling !== "string") return null;
  return {
    architecture: r.architecture as string,
    modelType: r.modelType as string,
    hiddenSize: r.hiddenSize as number,
    intermediateSize: r.intermediateSize as number,
    numLayers: r.numLayers as number,
    numHeads: r.numHeads as number,
    numKvHeads: r.numKvHeads as number,
    headDim: r.headDim as number,
    vocabSize: r.vocabSize as number,
    maxPositionEmbeddings: r.maxPositionEmbeddings as number,
    tieWordEmbeddings: r.tieWordEmbeddings as boolean,
    slidingWindow: (r.slidingWindow as number | undefined) ?? null,
    ropeScaling: (r.ropeScaling as string | undefined) ?? null,
    hasChatTemplate: r.hasChatTemplate as boolean,
    dtype: r.dtype as string,
    parameterCount: r.parameterCount as number,
  };
}
