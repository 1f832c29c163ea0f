import { z } from "zod";
import type { HyperParameterValue } from "../finetune.js";
import { INT32_MAX, intField } from "../validate.js";
import type { PageInfo } from "../pagination.js";
import type { V2RunStatus } from "../states.js";

/**
 * V2 fine-tuning (`POST /v2/finetuning?Action=…`, reference §6.2): results, and the bodies of
 * Sailfin's extensions. The Qianfan bodies (CreateFineTuningJobBody, CreateFineTuningTaskBody,
 * …) live in ../finetune.ts beside their V1 twins and are re-exported by this folder's index.
 */
export {
  CreateFineTuningJobBody, CreateFineTuningTaskBody, DescribeFineTuningJobsBody, DescribeFineTuningTasksBody,
  FineTuningJobIdBody, FineTuningTaskIdBody, FineTuningDatasetConfig, DatasetVersionEntry,
  TRAIN_MODES, PARAMETER_SCALES, SUPPORTED_PARAMETER_SCALES,
  type TrainMode, type ParameterScale, type SupportedParameterScale, type HyperParameterValue, type HyperParameterDef,
  type SupportModel, type SupportModelSpec, type SupportTrainMode, type SupportParameterScale,
} from "../finetune.js";

/** Sailfin extension `DescribeFineTuningTaskMetrics`: steps after `sinceStep` (exclusive). */
export const DescribeFineTuningTaskMetricsBody = z.object({
  taskId: z.string().min(1),
  sinceStep: intField(0, INT32_MAX).optional(),
});
export type DescribeFineTuningTaskMetricsBody = z.infer<typeof DescribeFineTuningTaskMetricsBody>;

// ---------------------------------------------------------------------------------------------
// Results

export interface CreateFineTuningJobResult {
  readonly jobId: string;
}

/** `jobList[]` item; the docs say `createTime`, the SDK's mock `createDate`: both are sent. */
export interface FineTuningJobItem {
  readonly jobId: string;
  readonly name: string;
  readonly description: string;
  readonly model: string;
  readonly trainMode: string;
  readonly createTime: string;
  readonly createDate: string;
}

export interface DescribeFineTuningJobsResult {
  readonly jobList: readonly FineTuningJobItem[];
  readonly pageInfo: PageInfo;
}

export interface CreateFineTuningTaskResult {
  readonly jobId: string;
  readonly taskId: string;
}

export interface FineTuningCheckpoint {
  readonly step: number;
  /** exp(eval loss), or null when the run holds no validation split. */
  readonly perplexity: number | null;
  readonly trainingLoss: number | null;
}

/** The task object (reference §6.2.2), with the frozen hyper-parameters and datasets echoed. */
export interface FineTuningTaskDetail {
  readonly taskId: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly jobDescription: string;
  readonly description: string;
  readonly model: string;
  readonly trainMode: string;
  readonly parameterScale: string;
  readonly runStatus: V2RunStatus;
  /** `"NN%"`, only while Running (the Python trainer parses it then). */
  readonly runProgress?: string;
  /** The console page of the task. */
  readonly vdlLink: string;
  readonly checkpointList: readonly FineTuningCheckpoint[];
  /** Sailfin extension, on Failed tasks: what went wrong. */
  readonly failureReason?: string;
  /** Sailfin extension: `user` (the input) or `system`. */
  readonly failureKind?: string | null;
  /**
   * Sailfin extension, only while queued (and only on the single-object describe): why no
   * worker will start it, e.g. `"no worker online"` (docs/api.md).
   */
  readonly waitingReason?: string;

  readonly createDate: string;
  /** `0000-00-00T00:00:00Z` until finished. */
  readonly finishDate: string;
  readonly hyperParameterConfig: Readonly<Record<string, HyperParameterValue>>;
  readonly datasetConfig: {
    readonly sourceType: string;
    /** `role: "validation"` (Sailfin extension): an evaluation set, never trained on (OpenAI jobs' `validation_file`). */
    readonly versions: ReadonlyArray<{ readonly versionId: string; readonly samplingRate: number; readonly role?: "validation" }>;
    readonly splitRatio: number;
  };
  readonly incrementTaskId?: string;
  readonly incrementCheckpointStep?: number;
  /** Where the task runs: its pool and node count as Qianfan names them, and Sailfin's extension fields. */
  readonly resourceConfig: RunResourceConfig;
  /**
   * Sailfin extension, on a task created through OpenAI's API (docs/openai.md): its `ftjob-` id
   * and, once it succeeded, its `fine_tuned_model` (null before).
   */
  readonly openAiJob?: { readonly id: string; readonly fineTunedModel: string | null };
}

/**
 * Where a run executes (V2 task `resourceConfig`, V1 job detail extension): `resourceId` and
 * `nodeNum` are Qianfan's names; the rest are Sailfin extensions.
 */
export interface RunResourceConfig {
  /** The resource pool (SAILFIN_POOLS). */
  readonly resourceId: string;
  readonly nodeNum: number;
  /** Ranks a node. */
  readonly processesPerNode: number;
  /** `local` or `slurm`: the pool's executor as configured now; null when the pool is no longer configured. */
  readonly executor: string | null;
  /** The executor's job id (a Slurm job id) once it started one; null otherwise (always for `local`). */
  readonly executorJobId: string | null;
}

export interface DescribeFineTuningTasksResult {
  readonly taskList: readonly FineTuningTaskDetail[];
  readonly pageInfo: PageInfo;
}

/** One logged training step. */
export interface FineTuningMetricPoint {
  readonly step: number;
  readonly epoch: number | null;
  readonly loss: number | null;
  readonly lr: number | null;
  readonly gradNorm: number | null;
  readonly tokensPerSecond: number | null;
  readonly evalLoss: number | null;
}

/** DescribeFineTuningTaskMetrics: up to 2,000 points; ask again with `sinceStep` while truncated. */
export interface FineTuningTaskMetrics {
  readonly taskId: string;
  readonly metrics: readonly FineTuningMetricPoint[];
  readonly isTruncated: boolean;
}

/** Sailfin extension `DescribeFineTuningTaskQuote`: what a CreateFineTuningTask body would train. */
export interface FineTuningTaskQuote {
  readonly trainMode: string;
  readonly parameterScale: string;
  readonly epochs: number;
  /** Training rows (packed sequences, or preference rows) and examples (pairs count once). */
  readonly trainRows: number;
  readonly examples: number;
  readonly validationRows: number;
  /** Tokens that carry loss in one epoch, and over all epochs. */
  readonly trainedTokensPerEpoch: number;
  readonly trainedTokens: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** True when the token shards were already cached (nothing was tokenized for this quote). */
  readonly cached: boolean;
  /** Median trained tokens/s of finished runs on this model shape and scale; null before any. */
  readonly tokensPerSecond: number | null;
  /** Runs the throughput is measured on. */
  readonly throughputRuns: number;
  /** Estimated training seconds (setup and evaluation not included), or null: unknown. */
  readonly etaSeconds: number | null;
}
