import type { EvalEffectMetric } from "@sailfin/contract";

/**
 * The frozen form of an evaluation (a `runs` row of kind `evaluate`, id `ame-…`), what it
 * measured, and the export spec. Both dialects' create bodies are turned into `EvalRunSpec`
 * by the routes; the worker reads nothing else.
 */

/** Inference settings of one evaluated version (Qianfan's names: temperature, top_p, penalty_score). */
export interface InferenceParams {
  /** null: greedy decoding (deterministic scores); a number samples at that temperature. */
  readonly temperature: number | null;
  readonly topP: number | null;
  /** Repetition penalty, 1 = none. */
  readonly penaltyScore: number;
  readonly maxOutputTokens: number;
  /** Stop strings: generation ends at the first, which is cut from the answer. */
  readonly stop: readonly string[];
  readonly system: string | null;
}

export interface EvalUnitSpec {
  readonly index: number;
  readonly modelVersionId: string;
  readonly modelVersionNum: number;
  readonly modelSetId: string;
  readonly modelSetNum: number;
  readonly modelName: string;
  readonly version: number;
  readonly sourceType: string;
  /** Contains `{input}`, replaced by the sample's prompt; null sends the prompt as it is. */
  readonly promptTemplate: string | null;
  readonly params: InferenceParams;
  /**
   * `evalObjectType: inferDataset`: this unit is an answers dataset (PromptResponse whose last
   * turn carries `completion`, the model's answer), scored without generation. Then the model
   * fields name the dataset: `modelVersionId` its `ds-…` version, `modelName` its name, `version`
   * its number, `modelVersionNum` 0. Absent for model units (and in specs written before it).
   */
  readonly answers?: { readonly dataKey: string; readonly contentHash: string };
}

export interface JudgeSpec {
  /** OpenAI-compatible chat endpoint, as the request named it. The worker resolves it against its own judge endpoints before calling: an operator endpoint gets its key, a caller URL none. */
  readonly url: string;
  readonly model: string;
  readonly timeoutMs: number;
  readonly prompt: {
    readonly templateContent?: string;
    readonly metric?: string;
    readonly steps?: string;
    readonly minScore: number;
    readonly maxScore: number;
  };
}

export type EvalMode = "rule" | "model" | "manual";

/** One dimension people score a manual evaluation's answers on (the first is Qianfan's 满意度). */
export interface ManualDimension {
  readonly dimension: string;
  readonly description: string;
  readonly minScore: number;
  readonly maxScore: number;
}

export interface EvalRunSpec {
  readonly specVersion: 1;
  readonly kind: "evaluate";
  readonly dataset: {
    readonly versionId: string;
    readonly versionNum: number;
    readonly name: string;
    readonly dataKey: string;
    readonly contentHash: string;
  };
  readonly units: readonly EvalUnitSpec[];
  readonly modes: readonly EvalMode[];
  /** Removed before rule metrics are computed; null uses the built-in list. */
  readonly stopWords: readonly string[] | null;
  readonly judge: JudgeSpec | null;
  /** `manual` mode's dimensions; absent without it (and in specs written before it). */
  readonly manual?: { readonly dimensions: readonly ManualDimension[] };
  /** Samples evaluated at most (the dataset's first N). */
  readonly maxSamples: number;
  readonly seed: number;
  /** The request's own configuration objects, echoed by describe. */
  readonly echo: Readonly<Record<string, unknown>>;
}

/** Aggregated metrics of one version, in the report's `effectMetric` names: the wire type itself. */
export type EffectMetric = EvalEffectMetric;

export interface EvalUnitResult {
  readonly index: number;
  readonly state: "Done" | "PartlyDone" | "Fail";
  readonly message: string;
  readonly samples: number;
  /** Samples whose judge call failed (rule metrics never fail). */
  readonly failedSamples: number;
  readonly generatedTokens: number;
  readonly tokensPerSecond: number;
  readonly sizeBytes: number;
  readonly effectMetric: EffectMetric;
}

/** `runs.result` of a finished evaluation. */
export interface EvalResult {
  readonly units: readonly EvalUnitResult[];
  /** True when some samples (or units) failed: V1 `PartlyDone`. */
  readonly partly: boolean;
  /** `manual` mode: the result dataset and the scoring phase (absent otherwise). */
  readonly manual?: ManualOutcome;
}

/**
 * A manual evaluation after generation: its answers as a released dataset (what the Python SDK's
 * `Dataset.test_using_llm(model_id)` reads back), then people score (V1 `DoingWithManualBegin`)
 * until every answer is scored or the owner finishes; then the units' `effectMetric` carry the
 * manual means.
 */
interface ManualOutcome {
  readonly resultDataset: ResultDatasetRef;
  readonly finished: boolean;
  readonly finishedAt: string | null;
}

/** A dataset an evaluation wrote (its group and its one released version). */
export interface ResultDatasetRef {
  readonly groupId: string;
  readonly groupNum: number;
  readonly versionId: string;
  readonly versionNum: number;
  readonly name: string;
}

export const EXPORT_CONTENTS = ["prompt", "prediction", "completion", "metrics", "system"] as const;
export type ExportContent = (typeof EXPORT_CONTENTS)[number];

export interface EvalExportSpec {
  readonly specVersion: 1;
  readonly kind: "eval-export";
  readonly evalRunNum: number;
  readonly evalId: string;
  readonly exportType: "local" | "storage";
  /** The user's bucket (`storage`). */
  readonly volumeId: string | null;
  readonly content: readonly ExportContent[];
  /** `part` exports: these result numbers only; null exports all. */
  readonly resultNums: readonly number[] | null;
}

/** `runs.result` of a finished export. */
export interface EvalExportResult {
  /** Artifact key of the zip. */
  readonly key: string;
  /** `exportPath` as the dialects show it: the object path inside the bucket. */
  readonly exportPath: string;
  readonly fileName: string;
  readonly rows: number;
  readonly bytes: number;
}
