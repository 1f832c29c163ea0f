import type {
  RuntimeCheckpointEvent, RuntimeDoneEvent, RuntimeErrorEvent, RuntimeEvent, RuntimeMetricsEvent, RuntimeProgressEvent, RuntimeStartedEvent, RuntimeStoppedEvent,
} from "@sailfin/contract";
import type { SplitManifest } from "@sailfin/data";
import type { FinetuneRunSpec } from "../finetune/records.js";
import type { PreparedRunData } from "../finetune/prepare-data.js";
import type { ModelVersionRef } from "./deps.js";

/**
 * Records the run-kind unit tests share (the kinds' *.test.ts beside this file): a fine-tuning
 * payload as createRun writes it, token shards as prepareSpecData returns them, a Ready version.
 */

export const FINETUNE_SPEC: FinetuneRunSpec = {
  specVersion: 1, kind: "finetune", jobId: "job-1", trainMode: "SFT", parameterScale: "LoRA",
  baseModel: { name: "tiny", setId: "am-base", versionId: "amv-base", versionNum: 3, config: {} as FinetuneRunSpec["baseModel"]["config"] },
  dataset: {
    sourceType: "Platform", splitRatio: 10,
    versions: [{ versionId: "ds-1", versionNum: 1, groupId: "g-1", dataFormat: "PromptResponse", contentHash: "h", samplingRate: 1 }],
  },
  hyperParameters: { epoch: 1, learningRate: 0.0003, maxSeqLen: 512, loraAllLinear: "True", checkpointCount: 2 },
  increment: null,
};

function manifest(split: "train" | "validation", rows: number): SplitManifest {
  return {
    format: "sailfin-shards/1", kind: "packed", split, seqLen: 128, padId: 0, rows, samples: rows, truncatedSamples: 0, tokens: rows * 100,
    trainedTokens: rows * 50, contentHash: "h", shards: [],
  };
}

/** Prepared shards with `validationRows` held out (0: no validation split). */
export function preparedData(validationRows: number): PreparedRunData {
  return {
    key: "k", cached: true, trainDir: "/cache/k/train", validationDir: "/cache/k/validation",
    train: manifest("train", 10), validation: manifest("validation", validationRows),
  };
}

/** A Ready model version whose folder is `models/<id>/`. */
export function readyVersion(num: number, id: string, extra: Partial<ModelVersionRef> = {}): ModelVersionRef {
  return { num, id, status: "Ready", artifactPath: `models/${id}/`, sizeBytes: 1234, sourceRunNum: null, ...extra };
}

/**
 * Runtime events as the protocol defines them (`RuntimeEvent`), with neutral values for the
 * fields a test does not care about: scripted runtimes speak the real protocol, so the link's
 * schema check is exercised, not bypassed.
 */
export const runtimeEvent = {
  started: (fields: Partial<RuntimeStartedEvent> = {}): RuntimeStartedEvent => ({
    event: "started", time: 0, totalSteps: 0, trainRows: 0, trainedTokensPerEpoch: 0, device: "cpu", precision: "fp32", torch: "2.4.0",
    parameters: 0, trainableParameters: 0, resumedFromStep: 0, ...fields,
  }),
  metrics: (fields: Partial<RuntimeMetricsEvent> & Pick<RuntimeMetricsEvent, "step">): RuntimeMetricsEvent => ({
    event: "metrics", time: 0, epoch: 0, loss: null, lr: 0, gradNorm: null, tokensPerSecond: 0, trainedTokens: 0, ...fields,
  }),
  progress: (fields: Omit<RuntimeProgressEvent, "event" | "time">): RuntimeProgressEvent => ({ event: "progress", time: 0, ...fields }),
  checkpoint: (fields: Partial<RuntimeCheckpointEvent> & Pick<RuntimeCheckpointEvent, "step" | "path">): RuntimeCheckpointEvent => ({
    event: "checkpoint", time: 0, trainLoss: null, evalLoss: null, ...fields,
  }),
  /** `outputs` are the recipe's (RUNTIME_OUTPUTS); the link checks them against the job's recipe. */
  done: (outputs: object, step: number | null = null): RuntimeEvent => ({ event: "done", time: 0, step, outputs } as RuntimeDoneEvent),
  stopped: (fields: Partial<RuntimeStoppedEvent> = {}): RuntimeStoppedEvent => ({ event: "stopped", time: 0, step: null, checkpoint: null, ...fields }),
  error: (kind: "user" | "system", message: string): RuntimeErrorEvent => ({ event: "error", time: 0, kind, message }),
};
