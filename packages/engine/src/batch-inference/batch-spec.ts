import type { InferenceParams } from "../evaluations/eval-spec.js";

/** The payload of a `batch-inference` run (written by createBatchTask, read by the worker). */

/** Qianfan's chat parameters as Sailfin resolved them (the request's `inferenceParams`): an evaluated version's, the same names. */
export type BatchParams = InferenceParams;

export interface BatchInferenceSpec {
  readonly specVersion: 1;
  readonly kind: "batch-inference";
  readonly modelVersionId: string;
  readonly modelVersionNum: number;
  /** As the request named the model (echoed by describe): one of the two is "". */
  readonly modelId: string;
  readonly endpoint: string;
  readonly input: {
    /** The released dataset version read, or null for a `bos:/` input. */
    readonly datasetVersionId: string | null;
    /** `bos:/…` as given ("" for a dataset version). */
    readonly uri: string;
    /** Artifact keys of the JSONL objects, in order. */
    readonly keys: readonly string[];
    /** The dataset's format, or `default` for a file. */
    readonly dataFormat: string;
    /** Samples, when known before the run (a dataset version's record count). */
    readonly totalCount: number | null;
  };
  readonly output: {
    /** `bos:/…` as given, or "" (results only in Sailfin's own storage). */
    readonly uri: string;
    /** Artifact key of the result JSONL. */
    readonly key: string;
  };
  readonly params: BatchParams;
  /** The request's `inferenceParams`, echoed. */
  readonly inferenceParams: Readonly<Record<string, unknown>>;
  /** The access key that created it (`creator` on the wire). */
  readonly creator: string;
}

/** What a finished task produced (`runs.result`): the download link reads `key` and `fileName`. */
export interface BatchInferenceResult {
  readonly key: string;
  readonly fileName: string;
  readonly samples: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly tokensPerSecond: number;
}
