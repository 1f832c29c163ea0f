import { z } from "zod";
import type { PageInfo } from "../pagination.js";
import type { DatasetImportStatus, DatasetPublishStatus } from "../states.js";
import { PageFields, nameField } from "../validate.js";

/**
 * V2 datasets (`POST /v2/dataset?Action=…`, reference §10.2): request bodies and results. The
 * reference did not capture these response bodies; they follow the V2 conventions (`ds-` ids,
 * `pageInfo` marker pages, ISO times with offset) and the fields the Python SDK reads.
 *
 * `dataFormat` is any non-empty string here: which names are accepted is packages/data's format
 * table, and the server narrows these schemas with it (`.extend`), so a client can send any of
 * the V2 names (`PromptResponse`, `Messages`, `DPO_PromptChosenRejected`, …).
 */

const Id = z.string().min(1).max(64);

/** `sysStorage`: the platform keeps the data; `BOS`: the user's bucket is recorded as its home. */
export const DATASET_STORAGE_TYPES = ["BOS", "sysStorage"] as const;
export type DatasetStorageType = (typeof DATASET_STORAGE_TYPES)[number];

export const CreateDatasetBody = z.object({
  datasetName: nameField(1, 100),
  dataFormat: z.string().min(1),
  storageType: z.enum(DATASET_STORAGE_TYPES),
  /** `bos:/bucket/dir/`; required for BOS storage. */
  storagePath: z.string().optional(),
  description: z.string().max(500).optional(),
});
export type CreateDatasetBody = z.infer<typeof CreateDatasetBody>;

export const DatasetFilter = z.object({ datasetName: z.string().optional(), dataFormat: z.string().min(1).optional() });
export type DatasetFilter = z.infer<typeof DatasetFilter>;

export const DescribeDatasetsBody = z.object({ ...PageFields, filter: DatasetFilter.optional() });
export type DescribeDatasetsBody = z.infer<typeof DescribeDatasetsBody>;

export const DatasetIdBody = z.object({ datasetId: Id });
export type DatasetIdBody = z.infer<typeof DatasetIdBody>;

export const CreateDatasetVersionBody = z.object({ datasetId: Id, description: z.string().max(500).optional() });
export type CreateDatasetVersionBody = z.infer<typeof CreateDatasetVersionBody>;

export const DatasetVersionIdBody = z.object({ versionId: Id });
export type DatasetVersionIdBody = z.infer<typeof DatasetVersionIdBody>;

export const DescribeDatasetVersionsBody = z.object({ datasetId: Id, ...PageFields, filter: z.object({}).passthrough().optional() });
export type DescribeDatasetVersionsBody = z.infer<typeof DescribeDatasetVersionsBody>;

/** `files`: `bos:/bucket/path` URIs (upload them first with PUT /sailfin/v1/objects/…). */
export const CreateImportTaskBody = z.object({ versionId: Id, files: z.array(z.string().min(1)).min(1).max(100) });
export type CreateImportTaskBody = z.infer<typeof CreateImportTaskBody>;

export const ImportTaskIdBody = z.object({ taskId: Id });
export type ImportTaskIdBody = z.infer<typeof ImportTaskIdBody>;

// ---------------------------------------------------------------------------------------------
// Results

/** A dataset (group). `versionCount`/`latestVersion` come with DescribeDatasets and CreateDataset. */
export interface DatasetItem {
  readonly datasetId: string;
  readonly datasetName: string;
  readonly dataFormat: string;
  readonly storageType: string;
  readonly storagePath: string;
  readonly versionCount?: number;
  readonly latestVersion?: number;
  readonly createTime: string;
  readonly modifyTime: string;
}

/** CreateDataset: the dataset and its first version. */
export interface CreateDatasetResult extends DatasetItem {
  readonly versionId: string;
  readonly version: number;
}

export interface DescribeDatasetsResult {
  readonly datasets: readonly DatasetItem[];
  readonly pageInfo: PageInfo;
}

/** One invalid line of an import. */
export interface ImportLineError {
  /** The source file when several were imported together. */
  readonly file?: string;
  /** 1-based line number within its file. */
  readonly line: number;
  readonly field: string;
  readonly reason: string;
}

/** What the last import found wrong (Sailfin extension; null before any import). */
export interface ImportErrorInfo {
  readonly errorCount: number;
  /** The first invalid lines, in file order; `truncated` more were counted but not listed. */
  readonly errors: readonly ImportLineError[];
  readonly truncated: number;
  /** A failure that is not about one line (no records, a missing file), or "". */
  readonly message: string;
  readonly files: readonly string[];
}

export interface DatasetVersionItem {
  readonly datasetId: string;
  readonly datasetName: string;
  readonly versionId: string;
  readonly version: number;
  readonly description: string;
  readonly dataFormat: string;
  readonly storageType: string;
  readonly storagePath: string;
  readonly importStatus: DatasetImportStatus;
  readonly importProgress: number;
  readonly publishStatus: DatasetPublishStatus;
  readonly sampleCount: number;
  readonly characterCount: number;
  readonly storageSize: number;
  /** sha256 of the released content; "" until published. */
  readonly contentHash: string;
  readonly importErrorInfo: ImportErrorInfo | null;
  readonly createTime: string;
  readonly modifyTime: string;
  /** "" until published. */
  readonly publishTime: string;
}

export interface DescribeDatasetVersionsResult {
  readonly versions: readonly DatasetVersionItem[];
  readonly pageInfo: PageInfo;
}

/** DescribeImportTask. `importStatus` is the task's own: Running, Finished or Failed. */
export interface ImportTaskDetail {
  readonly taskId: string;
  readonly datasetId: string;
  readonly versionId: string;
  readonly importStatus: string;
  readonly files: readonly string[];
  readonly errorMessage: string;
  /** The version keeps the report of its newest import only: null for an older task. */
  readonly importErrorInfo: ImportErrorInfo | null;
  readonly createTime: string;
  readonly finishTime: string;
}
