import { z } from "zod";
import type { PageInfo } from "../pagination.js";
import type { ModelVersionStatus } from "../states.js";
import { INT32_MAX, PageFields, intField } from "../validate.js";
import type { VersionServiceRef } from "./services.js";

/**
 * V2 model repository (`POST /v2/model?Action=…`, reference §7.2): request bodies and results.
 * A model *set* holds numbered *versions* (`am-…` / `amv-…`); V2 calls a version a "model".
 */

export const MODEL_SET_TYPES = ["Text2Text", "Text2Image", "TextRepresentation", "ImageUnderstanding", "Industry"] as const;
export type ModelSetType = (typeof MODEL_SET_TYPES)[number];

export const CreateCustomModelSetBody = z.object({
  modelSetName: z.string(),
  modelType: z.enum(MODEL_SET_TYPES),
  labels: z.array(z.string().min(1).max(50)).max(20).optional(),
  description: z.string().max(300).optional(),
});
export type CreateCustomModelSetBody = z.infer<typeof CreateCustomModelSetBody>;

/** DescribeCustomModelSets and DescribeSystemModelSets. */
export const DescribeModelSetsBody = z.object(PageFields);
export type DescribeModelSetsBody = z.infer<typeof DescribeModelSetsBody>;

/** One of the two is required. */
export const DescribeModelSetBody = z.object({ modelSetId: z.string().min(1).optional(), modelSetName: z.string().min(1).optional() });
export type DescribeModelSetBody = z.infer<typeof DescribeModelSetBody>;

export const ModelSetIdBody = z.object({ modelSetId: z.string().min(1) });
export type ModelSetIdBody = z.infer<typeof ModelSetIdBody>;

export const ModelIdBody = z.object({ modelId: z.string().min(1) });
export type ModelIdBody = z.infer<typeof ModelIdBody>;

/** A new version: from a finished fine-tuning task (`Train`) or files in a bucket (`Import`). */
export const CreateCustomModelBody = z.object({
  modelSetId: z.string().min(1),
  description: z.string().max(300).optional(),
  sourceType: z.enum(["Train", "Import"]),
  trainMeta: z.object({
    taskId: z.string().min(1),
    checkpointStep: intField(0, INT32_MAX).optional(),
    // The doc's example spells it `step`; both are accepted.
    step: intField(0, INT32_MAX).optional(),
  }).optional(),
  importMeta: z.object({
    bucket: z.string(),
    objectPath: z.string(),
    modelFormat: z.enum(["HuggingFace.Transformers", "Safetensors"]).optional(),
    modelApplicationType: z.enum(["chat", "completion"]).optional(),
  }).optional(),
});
export type CreateCustomModelBody = z.infer<typeof CreateCustomModelBody>;

// ---------------------------------------------------------------------------------------------
// Results

/** DescribeModelSet; list items add `modelCount`. Versions newest first. */
export interface ModelSetDetail {
  readonly modelSetId: string;
  readonly modelSetName: string;
  readonly modelType: string;
  readonly source: string;
  readonly labels: readonly string[];
  readonly createTime: string;
  readonly modifyTime: string;
  readonly description?: string;
  readonly modelIds: readonly string[];
  readonly modelNames: readonly string[];
}

export interface ModelSetItem extends ModelSetDetail {
  readonly modelCount: number;
}

export interface DescribeCustomModelSetsResult {
  readonly customModelSetList: readonly ModelSetItem[];
  readonly pageInfo: PageInfo;
}

/** Sailfin has no platform presets: always an empty page. */
export interface DescribeSystemModelSetsResult {
  readonly systemModelSetList: readonly ModelSetItem[];
  readonly pageInfo: PageInfo;
}

/** Where a version came from. */
export type ModelSourceInfo =
  | { readonly sourceType: "Import"; readonly importBosUri: string }
  | { readonly sourceType: "Train"; readonly trainTaskId: string; readonly trainJobId: string; readonly checkpointStep?: number }
  | { readonly sourceType: "Acceleration"; readonly accelerationTaskId: string; readonly sourceModelId: string };

/** DescribeModel: one version. */
export interface ModelVersionDetail {
  readonly modelSetId: string;
  readonly modelId: string;
  /** The set's name and version number (`qwen2-tiny-V1`). */
  readonly modelName: string;
  /** The base model it is, or was trained from (a model set name), or "". */
  readonly model: string;
  readonly status: ModelVersionStatus;
  readonly sourceInfo: ModelSourceInfo;
  readonly description?: string;
  readonly createTime: string;
  readonly modifyTime: string;
  readonly modelApplicationType: "chat";
  readonly tokenLimitations?: { readonly trivial: { readonly inputTokens: number } };
  readonly isSupportModelComp: boolean;
  readonly failReason?: string;
  /** Sailfin extension, on DescribeModel only: the services deploying this version (docs/api.md). */
  readonly services?: readonly VersionServiceRef[];
}

export interface CreateCustomModelResult {
  readonly modelSetId: string;
  readonly modelId: string;
  readonly modelName: string;
  readonly status: ModelVersionStatus;
}
