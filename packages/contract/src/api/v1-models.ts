import { z } from "zod";
import { INT32_MAX, V1Id, intField } from "../validate.js";
import type { VersionServiceRef } from "./services.js";

/**
 * V1 model repository (`POST /wenxinworkshop/modelrepo/*`, reference §7.1 and seed 004):
 * request bodies and results. Ids are accepted as numbers or strings (`12094`, `"12094"`,
 * `"am-…"`); results carry both (`modelId` and `modelIdStr`).
 */

export const V1ModelIdBody = z.object({ modelId: V1Id });
export type V1ModelIdBody = z.infer<typeof V1ModelIdBody>;

export const V1ModelVersionIdBody = z.object({ modelVersionId: V1Id });
export type V1ModelVersionIdBody = z.infer<typeof V1ModelVersionIdBody>;

export const V1PublishTrainModelBody = z.object({
  isNewModel: z.boolean(),
  modelName: z.string().optional(),
  modelId: V1Id.optional(),
  tags: z.array(z.string().min(1).max(50)).max(20).optional(),
  versionMeta: z.object({
    description: z.string().max(300).optional(),
    taskId: V1Id.optional(),
    iterationId: V1Id,
    step: intField(0, INT32_MAX).optional(),
  }),
});
export type V1PublishTrainModelBody = z.infer<typeof V1PublishTrainModelBody>;

/** V1 page-number paging (`pageNo` from 1). */
const V1PageFields = {
  pageNo: intField(1, INT32_MAX).optional(),
  pageSize: intField(0, INT32_MAX).optional(),
};

export const V1ModelUserListBody = z.object({
  ...V1PageFields,
  nameFilter: z.string().max(100).optional(),
  /** SDK `ModelTypeUser` integers (0 text generation … 5 image understanding). */
  modelType: z.array(intField(0, 5)).optional(),
  orderBy: z.enum(["create_time", "createTime"]).optional(),
  order: z.enum(["asc", "desc"]).optional(),
});
export type V1ModelUserListBody = z.infer<typeof V1ModelUserListBody>;

export const V1ModelPresetListBody = z.object(V1PageFields);
export type V1ModelPresetListBody = z.infer<typeof V1ModelPresetListBody>;

export const V1ModelBatchDeleteBody = z.object({ modelIDs: z.array(V1Id).min(1).max(100) });
export type V1ModelBatchDeleteBody = z.infer<typeof V1ModelBatchDeleteBody>;

export const V1ModelVersionBatchDeleteBody = z.object({ modelVersionIds: z.array(V1Id).min(1).max(100) });
export type V1ModelVersionBatchDeleteBody = z.infer<typeof V1ModelVersionBatchDeleteBody>;

// ---- Results ----

/** Where a version came from (`sourceExtra`), one shape per source type. */
export type V1ModelSourceExtra =
  | { readonly sourceType: "Import"; readonly importModelVersionSourceExtra: { readonly bucket: string; readonly object: string } }
  | {
      readonly sourceType: "Train";
      readonly trainSourceExtra: {
        readonly taskId: number;
        readonly taskIdStr: string;
        readonly taskName: string;
        readonly iterationVersion: number;
        readonly runId: number;
        readonly runIdStr: string;
        readonly devType: number;
        readonly modelType: number;
        readonly templateType: number;
      };
    }
  | {
      readonly sourceType: "Acceleration";
      readonly accelerationSourceExtra: {
        readonly taskId: number;
        readonly taskIdStr: string;
        readonly taskName: string;
        readonly sourceModelVersionId: number;
        readonly sourceModelVersionIdStr: string;
      };
    };

/** The V1 model-version object (seed 004 field set). */
export interface V1ModelVersion {
  readonly modelId: number;
  readonly modelIdStr: string;
  readonly modelName: string;
  readonly modelVersionId: number;
  readonly modelVersionIdStr: string;
  readonly version: string;
  readonly description: string;
  readonly sourceType: string;
  readonly sourceExtra: V1ModelSourceExtra;
  readonly framework: string;
  readonly algorithm: string;
  readonly modelNet: string;
  readonly state: string;
  readonly ioMode: string;
  readonly ioLength: string;
  readonly copyright: string;
  readonly property: Readonly<Record<string, never>>;
  readonly createTime: string;
  readonly modifyTime: string;
  /** Always empty: Sailfin serves no inference, so nothing is deployed. */
  readonly deployResource: readonly never[];
  readonly supportOptions: readonly never[];
  readonly trainType: string;
}

/** `modelVersionDetail`: the version object with a deployed service's I/O (`params`, empty in Sailfin). */
export interface V1ModelVersionDetail extends V1ModelVersion {
  readonly params: Readonly<Record<string, never>>;
  /** Sailfin extension: the services deploying this version (docs/api.md). */
  readonly services: readonly VersionServiceRef[];
}

/** `modelDetail`. */
export interface V1ModelDetail {
  readonly modelId: number;
  readonly modelIdStr: string;
  readonly modelName: string;
  readonly source: string;
  readonly modelType: number;
  readonly createUserId: number;
  readonly createUser: string;
  readonly createTime: string;
  readonly modifyTime: string;
  readonly description: string;
  readonly trainType: string;
  readonly tags: readonly string[];
  readonly languageSupport: readonly never[];
  readonly expansion: readonly never[];
  readonly modelVersionList: readonly V1ModelVersion[];
}

/** `publishTrainModel` (`modelIDStr` with a capital ID, as the platform spells it). */
export interface V1PublishTrainModelResult {
  readonly modelId: number;
  readonly modelIDStr: string;
  readonly version: string;
  readonly versionId: number;
  readonly versionIdStr: string;
}

/** One model of `model/user/list`. */
export interface V1ModelListItem {
  readonly modelName: string;
  readonly modelId: number;
  readonly modelIdStr: string;
  readonly modelType: number;
  readonly tags: readonly string[];
  readonly createTime: string;
  readonly versionCount: number;
  readonly trainType: string;
  readonly latestVersionInfo: {
    readonly state: string;
    readonly version: string;
    readonly sourceType: string;
    readonly sourceExtra: V1ModelSourceExtra;
    readonly versionId: number;
    readonly versionIdStr: string;
  } | null;
}

/** `model/user/list` and `model/preset/list` (always empty in Sailfin). */
export interface V1ModelList {
  readonly total: number;
  readonly items: readonly V1ModelListItem[];
}
