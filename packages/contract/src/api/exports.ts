import { z } from "zod";
import type { ModelExportStatus, V2DatasetExportStatus } from "../states.js";
import { INT32_MAX, V1Id, intField } from "../validate.js";

/**
 * Dataset and model exports (reference §17): V1 `dataset/export`, `exportRecord` and
 * `importErrorDetail`; V2 `CreateExportTask`/`DescribeExportTask` (`/v2/dataset`) and
 * `CreateModelExportTask`/`DescribeModelExportTask` (`/v2/model`). Times in the V1 records are
 * naive `YYYY-MM-DD HH:mm:ss` (the Python SDK compares them with naive datetimes, §17.1).
 */

const Id = z.string().min(1).max(64);
/** `bos:/bucket/dir/` or `s3://bucket/dir/`: the folder an export is written into. */
const BucketFolder = z.string().max(1024);

// ---- V1 ----

export const V1DatasetExportBody = z.object({
  datasetId: V1Id,
  /** 0 (the platform's format) is the only one. */
  exportFormat: intField(0, 0).optional(),
  /** 1 with annotations, 2 source only: a text dataset's records are the same either way. */
  exportType: intField(1, 2).optional(),
  /** 0 the platform's storage (a download link), 1 the user's bucket (`storageId`). */
  exportTo: intField(0, 1),
  storageId: z.string().max(63).optional(),
});
export type V1DatasetExportBody = z.infer<typeof V1DatasetExportBody>;

export const V1ImportErrorDetailBody = z.object({ datasetId: V1Id, errCode: intField(0, INT32_MAX) });
export type V1ImportErrorDetailBody = z.infer<typeof V1ImportErrorDetailBody>;

/** One `dataset/exportRecord` entry (the SDK's mock field list); `size` in MB. */
export interface V1DatasetExportRecord {
  readonly exportId: string;
  readonly creatorName: string;
  readonly storageId: string;
  readonly storagePath: string;
  readonly size: number;
  readonly exportFormat: number;
  readonly exportType: number;
  /** DataExportStatus: 0 init, 1 running, 2 finished, 3 failed. */
  readonly status: number;
  readonly recordNum: number;
  readonly exportTo: number;
  /** A credential-free link for a finished platform-storage export; "" otherwise. */
  readonly downloadUrl: string;
  readonly startTime: string;
  /** "" until the export has ended. */
  readonly finishTime: string;
}

/** One invalid line of the last import (the import keeps the first 100, with their line, field and reason). */
export interface V1ImportErrorSample {
  readonly sequence: number;
  readonly sampleFileName: string;
  readonly sampleName: string;
  /** The line number inside its file. */
  readonly textLocation: number;
  /** `<field>: <reason>` (the import keeps why a line failed, not the line itself). */
  readonly textContent: string;
}

export interface V1ImportErrorDetail {
  readonly dataType: "file";
  readonly downloadUrl: string;
  readonly isZip: 0 | 1;
  readonly projectType: number;
  readonly content: readonly V1ImportErrorSample[];
}

// ---- V2 dataset ----

export const CreateExportTaskBody = z.object({
  versionId: Id,
  storageType: z.enum(["BOS", "sysStorage"]),
  storagePath: BucketFolder.optional(),
});
export type CreateExportTaskBody = z.infer<typeof CreateExportTaskBody>;

export const ExportTaskIdBody = z.object({ taskId: Id });
export type ExportTaskIdBody = z.infer<typeof ExportTaskIdBody>;

/** DescribeExportTask (the reference names seven fields; the times and downloadUrl are Sailfin's reading of the other three). */
export interface DatasetExportTaskDetail {
  readonly taskId: string;
  readonly versionId: string;
  readonly storageType: "BOS" | "sysStorage";
  /** The whole file path once known (`bos:/bucket/dir/name.zip`); the folder before. */
  readonly storagePath: string;
  readonly sizeMB: number;
  readonly sampleCount: number;
  readonly exportStatus: V2DatasetExportStatus;
  /** "NN%", "100%" when finished, "0" when failed. */
  readonly progress: string;
  readonly creator: string;
  readonly errorMessage: string;
  readonly createTime: string;
  readonly finishTime: string;
  /** sysStorage only, once finished; "" otherwise. */
  readonly downloadUrl: string;
}

// ---- V2 model ----

export const CreateModelExportTaskBody = z.object({
  modelId: Id,
  /** Sailfin extension: write the archive into a bucket folder (`bos:/bucket/dir/`) instead of Sailfin's storage. */
  storagePath: BucketFolder.optional(),
});
export type CreateModelExportTaskBody = z.infer<typeof CreateModelExportTaskBody>;

export const ModelExportIdBody = z.object({ modelId: Id });
export type ModelExportIdBody = z.infer<typeof ModelExportIdBody>;

export interface CreateModelExportTaskResult {
  readonly exportId: string;
}

/** DescribeModelExportTask: the version's newest export that has not failed; the file fields once Done. */
export type ModelExportTaskDetail =
  | { readonly hasRecord: false }
  | {
    readonly exportId: string;
    readonly hasRecord: true;
    readonly status: ModelExportStatus;
    readonly fileName?: string;
    readonly fileType?: string;
    readonly md5?: string;
    readonly fileSize?: number;
    /** Sailfin's storage: a credential-free link; a bucket export: "" (the file is `storagePath`). */
    readonly downloadUrl?: string;
    /** Sailfin extension: where the file is (`bos:/bucket/dir/name.tar` or Sailfin's own path). */
    readonly storagePath?: string;
  };
