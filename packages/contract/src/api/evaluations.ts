import { z } from "zod";
import type { PageInfo } from "../pagination.js";
import type { ExportState, V2EvalState } from "../states.js";
import { PageFields, V1Id } from "../validate.js";

/**
 * V2 evaluation (`POST /v2/eval?Action=…`, reference §8.2): request bodies of evaluations and
 * their result exports, and the objects the server answers. `evalObjectType` "model" generates
 * the answers; "inferDataset" scores the answers an answers dataset already holds. `evalMode`
 * "manual" adds people's scores (Sailfin's extension actions below) after the answers.
 */

/** Qianfan's inference parameters (the V2 reference's ranges; V1 takes the same keys). */
export const InferenceParamsBody = z.object({
  temperature: z.number().min(0.01).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  penalty_score: z.number().min(1).max(2).optional(),
  max_output_tokens: z.number().int().min(1).max(4096).optional(),
  stop: z.array(z.string().min(1).max(20)).max(4).optional(),
  system: z.string().max(4096).optional(),
});
export type InferenceParamsBody = z.infer<typeof InferenceParamsBody>;

/** Judge prompt settings (V1 `evalStandardConf.prompt`, V2 `autoModelEvalConfig.prompt`). */
export const JudgePromptBody = z.object({
  templateName: z.string().max(200).optional(),
  templateContent: z.string().max(20_000).optional(),
  metric: z.string().max(2_000).optional(),
  steps: z.string().max(5_000).optional(),
  minScore: z.number().optional(),
  maxScore: z.number().optional(),
});
export type JudgePromptBody = z.infer<typeof JudgePromptBody>;

/** Export columns as a list (what the SDK sends) or comma-joined. */
export const ExportContentBody = z.union([z.array(z.string()), z.string()]);
export type ExportContentBody = z.infer<typeof ExportContentBody>;

/**
 * A dimension people score a manual evaluation on (V1 `evaluationDimension[]`, V2
 * `manualEvalConfig.evaluationDimension[]`). Without a range: 1 to 5. V2's `scoreRange` shape is
 * not captured by the reference; Sailfin reads `[min, max]`.
 */
export const EvaluationDimensionBody = z.object({
  dimension: z.string().min(1).max(50),
  description: z.string().max(500).optional(),
  minScore: z.number().optional(),
  maxScore: z.number().optional(),
  scoreRange: z.tuple([z.number(), z.number()]).optional(),
});
export type EvaluationDimensionBody = z.infer<typeof EvaluationDimensionBody>;

export const CreateEvalTaskBody = z.object({
  taskName: z.string().min(1).max(100),
  description: z.string().max(500).optional(),
  evalObjectType: z.enum(["model", "inferDataset"]),
  evalObjectConfig: z.object({
    evalModelConfig: z.object({
      /** The dataset version evaluated on. */
      versionId: z.string().min(1),
      storageType: z.enum(["BOS", "sysStorage"]).optional(),
      storagePath: z.string().optional(),
      evalModelConfigList: z.array(z.object({
        modelId: z.string().min(1),
        promptTemplate: z.string().max(20_000).optional(),
        inferenceParams: InferenceParamsBody.optional(),
        stop: z.array(z.string().min(1).max(20)).max(4).optional(),
        isBase: z.boolean().optional(),
      })),
    }).optional(),
    /** `evalObjectType: inferDataset` (the list's key name is not captured by the reference; Sailfin reads this one). */
    evalInferDatasetConfig: z.object({
      evalInferDatasetConfigList: z.array(z.object({ inferDatasetVersionId: z.string().min(1), isBase: z.boolean().optional() })),
    }).optional(),
  }),
  evalConfig: z.object({
    /** Comma-joined metric modes (`rule`, `model`). */
    evalMode: z.string().min(1),
    autoModelEvalConfig: z.object({
      apiName: z.string().max(200).optional(),
      apiUrl: z.string().max(2_000).optional(),
      appId: z.union([z.number(), z.string()]).optional(),
      prompt: JudgePromptBody.optional(),
    }).optional(),
    autoRuleEvalConfig: z.object({ stopWordsPath: z.string().optional() }).optional(),
    manualEvalConfig: z.object({ evaluationDimension: z.array(EvaluationDimensionBody).max(20).optional() }).optional(),
  }),
});
export type CreateEvalTaskBody = z.infer<typeof CreateEvalTaskBody>;

export const DescribeEvalTasksBody = z.object({
  ...PageFields,
  evalType: z.enum(["auto", "manual"]).optional(),
  keyFilter: z.string().max(200).optional(),
});
export type DescribeEvalTasksBody = z.infer<typeof DescribeEvalTasksBody>;

export const EvalTaskIdBody = z.object({ taskId: z.string().min(1) });
export type EvalTaskIdBody = z.infer<typeof EvalTaskIdBody>;

/** Sailfin extension `ScoreEvalSample`: one answer's scores, one per dimension named. */
export const ScoreEvalSampleBody = z.object({
  taskId: z.string().min(1),
  /** The answer (`resultId` of DescribeEvalManualSamples). */
  resultId: V1Id,
  scores: z.array(z.object({ dimension: z.string().min(1).max(50), score: z.number() })).min(1).max(20),
});
export type ScoreEvalSampleBody = z.infer<typeof ScoreEvalSampleBody>;

export const CreateEvalResultExportTaskBody = z.object({
  evalId: z.string().min(1),
  storageType: z.enum(["BOS", "sysStorage"]),
  bucket: z.string().max(100).optional(),
  exportContent: ExportContentBody,
  // Sailfin extension (V1's part export): only these results.
  exportOpt: z.enum(["total", "part"]).optional(),
  resultIds: z.array(V1Id).optional(),
});
export type CreateEvalResultExportTaskBody = z.infer<typeof CreateEvalResultExportTaskBody>;

/** By the export's own id, or the evaluation's (its latest export). */
export const DescribeEvalResultExportTaskBody = z.object({ exportTaskId: z.string().min(1).optional(), evalId: z.string().min(1).optional() });
export type DescribeEvalResultExportTaskBody = z.infer<typeof DescribeEvalResultExportTaskBody>;

// ---------------------------------------------------------------------------------------------
// Results

export interface EvalModelState {
  readonly modelId: string;
  readonly modelName: string;
  readonly modelSetId: string;
  readonly state: V2EvalState;
  readonly message: string;
}

/** DescribeEvalTask, and DescribeEvalTasks' `taskList[]`. */
export interface EvalTaskDetail {
  readonly taskId: string;
  readonly taskName: string;
  readonly description: string;
  readonly evalType: "auto" | "manual";
  readonly state: V2EvalState;
  readonly evalObjectType: "model" | "inferDataset";
  readonly evalMode: string;
  readonly models: readonly EvalModelState[];
  readonly datasetVersionId: string;
  readonly createTime: string;
  readonly finishTime: string;
  /** 0–100. */
  readonly progress: number;
  readonly failReason?: string;
  /** Sailfin extension, manual evaluations once the answers are written: the result dataset's version (`ds-…`). */
  readonly resultDatasetId?: string;
  /**
   * Sailfin extension, only while queued (and only on the single-object describe): why no
   * worker will start it, e.g. `"no worker online"` (docs/api.md).
   */
  readonly waitingReason?: string;
}

export interface DescribeEvalTasksResult {
  readonly taskList: readonly EvalTaskDetail[];
  readonly pageInfo: PageInfo;
}

/** Aggregated metrics of one version (rule metrics 0–1, judge scores on the prompt's scale). */
export interface EvalEffectMetric {
  readonly accuracy?: number;
  readonly f1Score?: number;
  readonly rouge_1?: number;
  readonly rouge_2?: number;
  readonly rouge_l?: number;
  readonly bleu4?: number;
  readonly avgJudgeScore?: number;
  readonly stdJudgeScore?: number;
  readonly medianJudgeScore?: number;
  readonly scoreDistribution?: Readonly<Record<string, number>>;
  /** Manual evaluation: the mean of the first dimension's scores (Qianfan's 满意度). */
  readonly manualAvgScore?: number;
  /** Manual evaluation, per dimension: the mean (Sailfin's `avgScore`), how many answers were scored, and how many got each score. */
  readonly manualScoreDistribution?: readonly ManualDimensionScores[];
}

export interface ManualDimensionScores {
  readonly dimension: string;
  readonly avgScore: number | null;
  readonly scored: number;
  readonly scoreDistribution: Readonly<Record<string, number>>;
}

export interface EvalModelReport {
  readonly modelId: string;
  readonly modelName: string;
  readonly effectMetric: EvalEffectMetric;
  readonly sizeBytes: number;
  readonly samples: number;
  readonly failedSamples: number;
  readonly tokensPerSecond: number;
}

/** DescribeEvalTaskReport (only once the evaluation has finished). */
export interface EvalTaskReport {
  readonly taskId: string;
  readonly state: V2EvalState;
  readonly reports: readonly EvalModelReport[];
}

/** DescribeEvalResultExportTask. */
export interface EvalExportTask {
  readonly exportTaskId: string;
  readonly evalId: string;
  readonly state: ExportState;
  readonly storageType: "BOS" | "sysStorage";
  readonly bucket: string;
  readonly exportPath: string;
  /**
   * A finished local (sysStorage) export's download link, signed by the server itself
   * (`GET /sailfin/v1/exports/<id>/download?expires=…&signature=…`, no bce-auth; a presigned S3 URL with S3 artifacts); "" otherwise.
   */
  readonly downloadUrl: string;
  readonly createTime: string;
  readonly finishTime: string;
  readonly failReason?: string;
}

/** A manual evaluation's dimension as DescribeEvalManualSamples shows it. */
export interface EvalManualDimension {
  readonly dimension: string;
  readonly description: string;
  readonly minScore: number;
  readonly maxScore: number;
}

/** One answer to score. */
export interface EvalManualSample {
  readonly resultId: number;
  /** The version that answered (`amv-…`), or the answers dataset (`ds-…`) of an inferDataset evaluation. */
  readonly modelId: string;
  readonly sampleIndex: number;
  readonly prompt: string;
  readonly reference: string;
  readonly prediction: string;
  /** Dimension → score, for those scored so far. */
  readonly scores: Readonly<Record<string, number>>;
}

/** Sailfin extension `DescribeEvalManualSamples`. */
export interface EvalManualSamples {
  readonly taskId: string;
  readonly state: V2EvalState;
  readonly resultDatasetId: string;
  readonly dimensions: readonly EvalManualDimension[];
  readonly scored: number;
  readonly total: number;
  readonly finished: boolean;
  readonly samples: readonly EvalManualSample[];
}
