import { z } from "zod";
import type { PageInfo } from "../pagination.js";
import type { BatchInferenceStatus } from "../states.js";
import { PageFields } from "../validate.js";
import { InferenceParamsBody } from "./evaluations.js";

/**
 * Batch inference (V2 `POST /v2/batchinference?Action=…`, reference §16): a model version
 * answers every sample of a dataset, offline; the answers are one JSONL file. Request bodies and
 * the task object.
 */

export const CreateBatchInferenceTaskBody = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(500).optional(),
  /** The model version (`amv-…`) to run; exactly one of this and `endpoint`. */
  modelId: z.string().min(1).optional(),
  /** A service's URL (`…/wenxinworkshop/chat/<urlSuffix>`), its urlSuffix or its `svco-…` id: the version it serves runs. */
  endpoint: z.string().min(1).max(1024).optional(),
  /** Qianfan's chat parameters; the Python SDK always sends the key (`{}`). No temperature: greedy. */
  inferenceParams: InferenceParamsBody.optional(),
  /** `bos:/bucket/path` of a JSONL file or folder in Sailfin's storage (what dataset imports read). */
  inputBosUri: z.string().min(1).max(1024).optional(),
  /** Sailfin extension: a released dataset version (`ds-…`), instead of `inputBosUri`. */
  inputDatasetId: z.string().min(1).max(64).optional(),
  /** `bos:/bucket/folder/` of Sailfin's storage: the answers go to `<outputBosUri>/<taskId>/results.jsonl`. */
  outputBosUri: z.string().max(1024).optional(),
  /** Qianfan's AFS input/output: not supported (Sailfin has no AFS). */
  afsConfig: z.unknown().optional(),
  /** Qianfan's `"24h"` (snake_case on the wire): accepted, Sailfin tasks never expire. */
  completion_window: z.string().max(16).optional(),
});
export type CreateBatchInferenceTaskBody = z.infer<typeof CreateBatchInferenceTaskBody>;

export const BatchInferenceTaskIdBody = z.object({ taskId: z.string().min(1).max(64) });
export type BatchInferenceTaskIdBody = z.infer<typeof BatchInferenceTaskIdBody>;

/** `runStatus: []` (what the SDK sends when unset) means no filter. */
export const DescribeBatchInferenceTasksBody = z.object({
  ...PageFields,
  runStatus: z.array(z.enum(["Queuing", "Running", "Done", "Stopping", "Stopped", "Failed", "Expired"])).optional(),
});
export type DescribeBatchInferenceTasksBody = z.infer<typeof DescribeBatchInferenceTasksBody>;

/** The task object of reference §16, plus Sailfin's extensions (docs/batch-inference.md). */
export interface BatchInferenceTask {
  readonly taskId: string;
  readonly name: string;
  readonly description: string;
  /** Whichever of the two was given ("" for the other). */
  readonly endpoint: string;
  readonly modelId: string;
  readonly inferenceParams: Readonly<Record<string, unknown>>;
  readonly runStatus: BatchInferenceStatus;
  /** Only when Failed. */
  readonly errorCode?: string;
  readonly errorMsg?: string;
  readonly inputBosUri: string;
  /** Extension: the dataset version read, when the input was one. */
  readonly inputDatasetId?: string;
  /** As given; "" when none was (the answers are then only in Sailfin's own storage, see `outputUrl`). */
  readonly outputBosUri: string;
  /** The sub-folder of `outputBosUri` holding this task's `results.jsonl`: the task id. */
  readonly outputDir: string;
  /** Extension, when Done: a credential-free link to the result JSONL (valid one hour). */
  readonly outputUrl?: string;
  readonly inputTokenUsage: number;
  readonly outputTokenUsage: number;
  /** Samples answered (Done: all of them). */
  readonly progress: number;
  /** Extension: samples in the input. */
  readonly totalCount: number;
  readonly creator: string;
  readonly createTime: string;
  readonly finishTime?: string;
  readonly dataFormat: string;
}

export interface DescribeBatchInferenceTasksResult {
  readonly taskList: readonly BatchInferenceTask[];
  readonly pageInfo: PageInfo;
}
