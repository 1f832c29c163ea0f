import type { Selectable, Transaction } from "kysely";
import { SailfinError, type DatasetVersionState, type V1Id } from "@sailfin/contract";
import type { Database, DatasetGroupTable, Db, DatasetImportTable, DatasetVersionTable, Dialect } from "@sailfin/store";
import { isDataFormat, type DataFormat, type ValidationReport } from "@sailfin/data";
import { lockRows, type RowLockMode } from "../row-lock.js";

/**
 * Row shapes and look-ups shared by the dataset operations. Vocabulary: a *group* is the V2
 * "dataset" (V1 "group"); a *version* is the V2 "version" (V1 "dataset": its `num` is the V1
 * numeric `id`/`datasetId`). Both carry `ds-` ids.
 */
export type DatasetGroupRow = Selectable<DatasetGroupTable>;
export type DatasetVersionRow = Selectable<DatasetVersionTable>;
export type DatasetImportRow = Selectable<DatasetImportTable>;

/** A version with the group it belongs to (what every describe renders from). */
export interface DatasetVersionDetail {
  readonly group: DatasetGroupRow;
  readonly version: DatasetVersionRow;
}

/** What the last import recorded in `dataset_versions.validation_report`. */
export interface StoredImportReport extends ValidationReport {
  /** sha256 of the stored, normalised JSONL (becomes `content_hash` on release). */
  readonly sha256: string | null;
  /** The import task that wrote this report. */
  readonly importTaskId: string;
  /** The source URIs the import read. */
  readonly files: readonly string[];
  /** A failure that is not about one line (no records, a missing file, an I/O error). */
  readonly error: string | null;
}

/** Artifact key of a version's imported data. */
export function datasetDataKey(versionId: string): string {
  return `datasets/${versionId}/data.jsonl`;
}

export function groupFormat(group: DatasetGroupRow): DataFormat {
  if (!isDataFormat(group.data_format)) throw new Error(`dataset ${group.id} has an unknown format ${group.data_format}`);
  return group.data_format;
}

export function parseStoredReport(version: DatasetVersionRow): StoredImportReport | null {
  return version.validation_report === null ? null : (JSON.parse(version.validation_report) as StoredImportReport);
}

/**
 * The version named by a V1 id (its number, the number as a string, or its `ds-` id) or a V2
 * `versionId`. Throws NotFound naming `field`.
 */
export async function findDatasetVersion(db: Db, ref: V1Id, field: string): Promise<DatasetVersionDetail> {
  let query = db.selectFrom("dataset_versions").selectAll();
  if (typeof ref === "number" || /^\d+$/.test(ref)) {
    const num = Number(ref);
    if (!Number.isSafeInteger(num)) throw notFound(field, ref);
    query = query.where("num", "=", num);
  } else {
    query = query.where("id", "=", ref);
  }
  const version = await query.executeTakeFirst();
  if (version === undefined) throw notFound(field, ref);
  const group = await db.selectFrom("dataset_groups").selectAll().where("num", "=", version.group_num).executeTakeFirstOrThrow();
  return { group, version };
}

/**
 * Re-reads versions inside a transaction and locks them until it ends (PostgreSQL; SQLite
 * transactions are single-writer already), in number order so two lockers cannot deadlock.
 * A version deleted meanwhile is simply absent. Deleting a version (`update`) and creating a
 * fine-tuning run on it (`share`) both take this lock before checking the other side, so one of
 * them always sees the other's committed result.
 */
export async function lockDatasetVersions(
  trx: Transaction<Database>, dialect: Dialect, nums: readonly number[], mode: RowLockMode,
): Promise<DatasetVersionRow[]> {
  if (nums.length === 0) return [];
  return lockRows(trx.selectFrom("dataset_versions").selectAll().where("num", "in", [...nums]).orderBy("num", "asc"), dialect, mode).execute();
}

/** The group (V2 dataset) with this `ds-` id. Throws NotFound naming `field`. */
export async function findDatasetGroup(db: Db, id: string, field: string): Promise<DatasetGroupRow> {
  const group = await db.selectFrom("dataset_groups").selectAll().where("id", "=", id).executeTakeFirst();
  if (group === undefined) throw new SailfinError("NotFound", { field, detail: `dataset ${id} does not exist` });
  return group;
}

/** The newest group with this name (V1 `create` with `versionId` > 1 adds a version to it). */
export async function findDatasetGroupByName(db: Db, name: string, field: string): Promise<DatasetGroupRecord> {
  const group = await db.selectFrom("dataset_groups").selectAll().where("name", "=", name).orderBy("num", "desc").executeTakeFirst();
  if (group === undefined) throw new SailfinError("NotFound", { field, detail: `no dataset is named ${name}; create version 1 first` });
  return toGroupRecord(group);
}

function notFound(field: string, ref: V1Id): SailfinError {
  return new SailfinError("NotFound", { field, detail: `dataset version ${ref} does not exist` });
}

/**
 * What the dataset operations hand the routes: each row mapped once to camelCase, so no route
 * reads a column. Values are the stored ones unchanged (the dialects render their status words and codes).
 */
export interface DatasetGroupRecord {
  readonly num: number;
  readonly id: string;
  readonly name: string;
  /** Internal format name (see data/formats). */
  readonly dataFormat: string;
  readonly projectType: number;
  readonly templateType: number;
  readonly dataType: number;
  /** `sysStorage` or `BOS`. */
  readonly storageType: string;
  /** `bos:/bucket/dir/` for BOS storage, "" otherwise. */
  readonly storagePath: string;
  readonly createdAt: string;
  readonly modifiedAt: string;
}

export interface DatasetVersionRecord {
  readonly num: number;
  readonly id: string;
  readonly version: number;
  readonly description: string;
  /** Its lifecycle (the dialects render their import and release statuses from it). */
  readonly state: DatasetVersionState;
  readonly importProgress: number;
  readonly recordCount: number;
  readonly charCount: number;
  readonly byteSize: number;
  /** The last import's report; null before any import. */
  readonly importReport: StoredImportReport | null;
  /** sha256 of the released content; null until released. */
  readonly contentHash: string | null;
  /** Artifact key of the imported JSONL; null before an import. */
  readonly dataPath: string | null;
  readonly releasedAt: string | null;
  readonly createdAt: string;
  readonly modifiedAt: string;
}

export interface DatasetImportTaskRecord {
  readonly id: string;
  readonly status: string;
  /** The source URIs the task reads. */
  readonly files: string[];
  readonly error: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

/** A version with its group, as records (what every dataset describe renders from). */
export interface DatasetVersionView {
  readonly group: DatasetGroupRecord;
  readonly version: DatasetVersionRecord;
}

export function toGroupRecord(row: DatasetGroupRow): DatasetGroupRecord {
  return {
    num: row.num, id: row.id, name: row.name, dataFormat: row.data_format, projectType: row.project_type,
    templateType: row.template_type, dataType: row.data_type, storageType: row.storage_type, storagePath: row.storage_path,
    createdAt: row.created_at, modifiedAt: row.modified_at,
  };
}

export function toVersionRecord(row: DatasetVersionRow): DatasetVersionRecord {
  return {
    num: row.num, id: row.id, version: row.version, description: row.description,
    state: row.state, importProgress: row.import_progress,
    recordCount: row.record_count, charCount: row.char_count, byteSize: row.byte_size, importReport: parseStoredReport(row),
    contentHash: row.content_hash, dataPath: row.data_path, releasedAt: row.released_at,
    createdAt: row.created_at, modifiedAt: row.modified_at,
  };
}

export function toImportTaskRecord(row: DatasetImportRow): DatasetImportTaskRecord {
  return {
    id: row.id, status: row.status, files: JSON.parse(row.files) as string[], error: row.error,
    createdAt: row.created_at, finishedAt: row.finished_at,
  };
}

export function toVersionView({ group, version }: DatasetVersionDetail): DatasetVersionView {
  return { group: toGroupRecord(group), version: toVersionRecord(version) };
}
