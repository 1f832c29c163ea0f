import { z } from "zod";
import { INT32_MAX, V1Id, intField } from "../validate.js";
import type { ImportErrorInfo } from "./datasets.js";

/**
 * V1 datasets (`POST /wenxinworkshop/dataset/*`, reference §10.1): request bodies and results.
 * A V1 "dataset" is one version: its numeric `id`/`datasetId` is the version's number and
 * `datasetPK`/`bmlDatasetId` its `ds-` id; `groupId` is the group's number. Every id parameter
 * takes the number or the `ds-` string.
 */

export const V1CreateDatasetBody = z.object({
  name: z.string().min(1).max(100),
  versionId: intField(1, INT32_MAX).optional(),
  projectType: intField(0, INT32_MAX),
  templateType: intField(0, INT32_MAX),
  dataType: intField(0, INT32_MAX).optional(),
  storageType: z.enum(["sysBos", "usrBos"]),
  storageId: z.string().optional(),
  rawStoragePath: z.string().optional(),
  remark: z.string().max(500).optional(),
});
export type V1CreateDatasetBody = z.infer<typeof V1CreateDatasetBody>;

export const V1DatasetIdBody = z.object({ datasetId: V1Id });
export type V1DatasetIdBody = z.infer<typeof V1DatasetIdBody>;

export const V1ImportDatasetBody = z.object({
  datasetId: V1Id,
  annotated: z.boolean().optional(),
  importFrom: intField(0, INT32_MAX).optional(),
  files: z.array(z.string().min(1)).min(1).max(100),
});
export type V1ImportDatasetBody = z.infer<typeof V1ImportDatasetBody>;

export const V1DatasetStatusListBody = z.object({ datasetIds: z.array(V1Id).min(1).max(100) });
export type V1DatasetStatusListBody = z.infer<typeof V1DatasetStatusListBody>;

// ---- Results ----

/** `storageInfo` / `storage`: the platform's own storage, or the user's bucket as created. */
export interface V1DatasetStorage {
  readonly storageId: string;
  readonly storageName: string;
  readonly storagePath: string;
  readonly rawStoragePath: string;
  readonly region: string;
}

/** The last import's validation report, with its counts (null before any import). */
export interface V1ImportErrorInfo extends Omit<ImportErrorInfo, "files"> {
  readonly records: number;
  readonly characters: number;
  readonly bytes: number;
  readonly blankLines: number;
  readonly files: readonly string[];
}

/** `dataset/create` (the SDK mock's field list). */
export interface V1DatasetCreated {
  readonly id: number;
  readonly groupId: number;
  readonly groupPK: string;
  readonly groupIdStr: string;
  readonly datasetId: string;
  readonly versionId: number;
  readonly groupName: string;
  readonly displayName: string;
  readonly createFrom: number;
  readonly bmlDatasetId: string;
  readonly userId: number;
  readonly dataType: number;
  readonly projectType: number;
  readonly templateType: number;
  readonly remark: string;
  readonly storageInfo: V1DatasetStorage;
  readonly importStatus: number;
  readonly importProgress: number;
  readonly exportStatus: number;
  readonly releaseStatus: number;
  readonly status: number;
  readonly isUnique: number;
  readonly errCode: null;
  readonly createTime: string;
  readonly modifyTime: string;
}

/** `dataset/info.versionInfo`. `memorySize` is in MB with two decimals; `memorySizeBytes` in bytes. */
export interface V1DatasetVersionInfo {
  readonly id: number;
  readonly groupId: number;
  readonly datasetId: number;
  readonly datasetPK: string;
  readonly datasetIdStr: string;
  readonly importRecordCount: number;
  readonly exportRecordCount: number;
  readonly bmlDatasetId: string;
  readonly userId: number;
  readonly versionId: number;
  readonly displayName: string;
  readonly importStatus: number;
  readonly importProgress: number;
  readonly exportStatus: number;
  readonly exportProgress: number;
  readonly dataType: number;
  readonly projectType: number;
  readonly templateType: number;
  readonly errCode: null;
  readonly uniqueType: number;
  readonly importErrorInfo: V1ImportErrorInfo | null;
  readonly createTime: string;
  readonly modifyTime: string;
  readonly storageType: "usrBos" | "sysBos";
  readonly storage: V1DatasetStorage;
  readonly releaseStatus: number;
  readonly releaseErrCode: number;
  readonly releaseStoragePath: string;
  readonly releaseProgress: number;
  readonly remark: string;
  readonly annotatedEntityCount: number;
  readonly entityCount: number;
  readonly labelCount: number;
  readonly memorySize: number;
  readonly memorySizeBytes: number;
  readonly characterCount: number;
  readonly contentHash: string;
  readonly releaseTime: string;
  readonly isEnhancing: boolean;
  readonly enhanceStatus: number;
  readonly hasEnhance: boolean;
  readonly isSelfInstructEnhance: boolean;
  readonly etlStatus: number;
  readonly hasEtl: boolean;
  readonly isPipelineEtl: boolean;
  readonly description: string;
  readonly tag: readonly string[];
  readonly license: string;
}

/** `dataset/info`. */
export interface V1DatasetInfo {
  readonly groupPK: string;
  readonly groupIdStr: string;
  readonly name: string;
  readonly dataType: number;
  readonly versionInfo: V1DatasetVersionInfo;
}

/** One entry of `dataset/statusList`. */
export interface V1DatasetStatus {
  readonly importStatus: number;
  readonly importProgress: number;
  readonly releaseStatus: number;
  readonly releaseProgress: number;
  readonly exportStatus: number;
  readonly exportProgress: number;
  readonly enhanceStatus: number;
  readonly etlStatus: number;
  readonly importErrorInfo: V1ImportErrorInfo | null;
  readonly entityCount: number;
  readonly annotatedEntityCount: number;
  readonly labelCount: number;
  readonly characterCount: number;
  readonly modifyTime: string;
}

/** `dataset/statusList`: keyed by the ids as the caller sent them. */
export type V1DatasetStatusList = Record<string, V1DatasetStatus>;

/** `dataset/delete`: how many versions the group has left. */
export interface V1DatasetDeleteResult {
  readonly versionCount: number;
}
