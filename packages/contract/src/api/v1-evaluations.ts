import { z } from "zod";
import type { ExportState, V1EvalState } from "../states.js";
import { INT32_MAX, V1Id, intField } from "../validate.js";
import { EvaluationDimensionBody, ExportContentBody, InferenceParamsBody, JudgePromptBody, type EvalEffectMetric } from "./evaluations.js";

/**
 * V1 evaluation (`POST /wenxinworkshop/modelrepo/eval/*`, reference §8.1; seed 002 for
 * export/info): request bodies and results. Ids are the numeric `num`s, also accepted as digit
 * strings or as the public `ame-…` / `amemt-…` ids. The inference, judge-prompt and export
 * bodies are V2's (./evaluations.ts).
 */

/** The per-sample metrics a result list can filter and order by. */
export const V1_EVAL_RESULT_METRICS = ["bleu4", "rouge_1", "rouge_2", "rouge_l", "judgeScore"] as const;

export const V1CreateEvalBody = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(500).optional(),
  datasetId: V1Id,
  versionEvalInfo: z.array(z.object({
    modelId: V1Id.optional(),
    modelVersionId: V1Id,
    params: InferenceParamsBody.optional(),
    prompt: z.object({ enable: z.boolean().optional(), content: z.string().optional() }).optional(),
  })),
  evalStandardConf: z.object({
    evalMode: z.string().min(1),
    scoreModes: z.array(z.string()).optional(),
    stopWordsPath: z.string().optional(),
    appId: z.union([z.number(), z.string()]).optional(),
    apiName: z.string().max(200).optional(),
    apiUrl: z.string().max(2_000).optional(),
    prompt: JudgePromptBody.optional(),
    /** `manual` mode's dimensions (the SDK's batch inference sends `[{dimension: "满意度"}]`). */
    evaluationDimension: z.array(EvaluationDimensionBody).max(20).optional(),
  }),
  /** Qianfan's resource choice (`{vmType: 1, vmNumber: 8}`), only echoed: flat scalars, so nothing deep or large is stored. */
  computeResourceConf: z.record(z.string().max(100), z.union([z.string().max(200), z.number(), z.boolean(), z.null()]))
    .refine((conf) => Object.keys(conf).length <= 20, "at most 20 keys").optional(),
  /** Qianfan starts a saved draft with it; Sailfin has no drafts. */
  id: V1Id.optional(),
});
export type V1CreateEvalBody = z.infer<typeof V1CreateEvalBody>;

export const V1EvalIdBody = z.object({ id: V1Id });
export type V1EvalIdBody = z.infer<typeof V1EvalIdBody>;

const MetricRange = z.object({ start: z.number().optional(), end: z.number().optional() });

export const V1EvalResultListBody = z.object({
  id: V1Id,
  pageNo: intField(1, INT32_MAX).optional(),
  pageSize: intField(1, INT32_MAX).optional(),
  bleu4: MetricRange.optional(),
  rouge_1: MetricRange.optional(),
  rouge_2: MetricRange.optional(),
  rouge_l: MetricRange.optional(),
  judgeScore: MetricRange.optional(),
  modelVersionIds: z.array(V1Id).max(100).optional(),
  orderBy: z.enum(V1_EVAL_RESULT_METRICS).optional(),
  order: z.enum(["asc", "desc"]).optional(),
});
export type V1EvalResultListBody = z.infer<typeof V1EvalResultListBody>;

export const V1DeleteEvalsBody = z.object({ evalIds: z.array(V1Id).min(1).max(100) });
export type V1DeleteEvalsBody = z.infer<typeof V1DeleteEvalsBody>;

export const V1EvalExportBody = z.object({
  id: V1Id,
  exportType: z.enum(["local", "storage"]).optional(),
  exportOpt: z.enum(["total", "part"]).optional(),
  exportContent: ExportContentBody.optional(),
  volumeId: z.string().max(100).optional(),
  resultIds: z.array(V1Id).optional(),
});
export type V1EvalExportBody = z.infer<typeof V1EvalExportBody>;

export const V1EvalExportInfoBody = z.object({ exportID: V1Id });
export type V1EvalExportInfoBody = z.infer<typeof V1EvalExportInfoBody>;

// ---- Results ----

/** `eval/create`. */
export interface V1EvalCreated {
  readonly evalId: number;
  readonly evalIdStr: string;
}

/** One evaluated version of `eval/detail`. */
export interface V1EvalUnit {
  readonly modelVersionId: number;
  readonly modelVersionIdStr: string;
  readonly modelId: number;
  readonly modelIdStr: string;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly modelSource: string;
  readonly state: V1EvalState;
  readonly modelVersionDesc: string;
  readonly message: string;
  readonly modelTags: readonly string[];
}

/** `eval/detail` (reference §8.1), plus Sailfin's `progress` and `failReason`. */
export interface V1EvalDetail {
  readonly evaluationId: number;
  readonly evaluationIdStr: string;
  readonly name: string;
  readonly description: string;
  readonly state: V1EvalState;
  readonly evalUnits: readonly V1EvalUnit[];
  readonly datasetId: number;
  readonly datasetIdStr: string;
  readonly datasetName: string;
  /** As the client sent it (`{}` when it sent none). */
  readonly computeResourceConf: Readonly<Record<string, string | number | boolean | null>>;
  /** As the client sent it, or rebuilt for an evaluation created through V2. */
  readonly evalStandardConf: unknown;
  readonly createTime: string;
  readonly finishTime: string;
  /** 0–100. */
  readonly progress: number;
  readonly failReason?: string;
  /** Sailfin extension, only while queued: why no worker will start it (docs/api.md). */
  readonly waitingReason?: string;
}

/** One item of `eval/report`: an evaluated version with Sailfin's measurements. */
export interface V1EvalReportItem {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly modelVersionSource: string;
  readonly evalMode: string;
  readonly evaluationName: string;
  /** Units have no rows of their own: a unit is its 1-based place in the evaluation. */
  readonly id: number;
  readonly modelVersionId: number;
  readonly modelVersionIdStr: string;
  readonly modelId: number;
  readonly modelIdStr: string;
  readonly evaluationJobId: number;
  readonly userId: string;
  readonly projectId: string;
  readonly evaluationId: number;
  readonly effectMetric: EvalEffectMetric;
  readonly sizeBytes: number;
  readonly samples: number;
  readonly failedSamples: number;
  readonly tokensPerSecond: number;
}

/** `eval/cancel`. */
export interface V1EvalCancelResult {
  readonly result: boolean;
  readonly errorMessage: string;
}

/** One version of an evaluable model (`eval/model/list`). */
export interface V1EvaluableModelVersion {
  readonly modelVersionId: number;
  readonly modelVersionIdStr: string;
  readonly version: string;
  readonly sourceType: string;
  readonly framework: string;
  readonly algorithm: string;
  readonly modelNet: string;
  readonly trainType: string;
  readonly description: string;
}

/** One model of `eval/model/list`: a text-generation set with its Ready versions. */
export interface V1EvaluableModel {
  readonly modelId: number;
  readonly modelIdStr: string;
  readonly modelName: string;
  readonly source: string;
  readonly modelType: number;
  readonly trainType: string;
  readonly modelVersionList: readonly V1EvaluableModelVersion[];
}

/** One scored answer of `eval/result/list`. */
export interface V1EvalResultItem {
  readonly id: number;
  readonly modelVersionId: number;
  readonly evalUnitIndex: number;
  readonly sampleIndex: number;
  readonly prompt: string;
  readonly prediction: string;
  readonly completion: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly judgeScore: number | null;
  readonly judgeError: string | null;
}

/** `eval/result/list`. */
export interface V1EvalResultList {
  readonly total: number;
  readonly pageNo: number;
  readonly pageSize: number;
  readonly results: readonly V1EvalResultItem[];
}

/** `eval/result/export`. */
export interface V1EvalExportCreated {
  readonly exportID: number;
  readonly exportIDStr: string;
}

/** `eval/result/export/info` (seed 002's field set and order), plus `failReason` when it failed. */
export interface V1EvalExportInfo {
  readonly id: number;
  readonly idStr: string;
  readonly exportID: number;
  readonly exportIDStr: string;
  readonly state: ExportState;
  readonly exportType: string;
  readonly volumeId: string;
  readonly exportPath: string;
  /** A finished local export's signed download link; "" otherwise. */
  readonly downloadUrl: string;
  readonly failReason?: string;
}
