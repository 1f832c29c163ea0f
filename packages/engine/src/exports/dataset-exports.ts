import { STATE_WORD, SailfinError, newId, type V1Id } from "@sailfin/contract";
import type { Db } from "@sailfin/store";
import { parseBucketUri } from "../artifacts/keys.js";
import { findDatasetVersion } from "../datasets/records.js";
import { enqueueRun } from "../queue/enqueue.js";
import { findWorkRun, type WorkRow } from "../queue/find-work.js";
import { runStateOf } from "../queue/run-state.js";
import type { Actor, EngineResources } from "../resources.js";
import { toWorkRunView, type WorkRunView } from "../work-run-record.js";

/**
 * Dataset exports (V1 `dataset/export` + `exportRecord`, V2 `CreateExportTask` +
 * `DescribeExportTask`): a `runs` row of kind `dataset-export` (id `task-…`, its dataset version
 * in `dataset_version_num`) whose worker streams the version's records into a zip
 * (execute-dataset-export.ts): into Sailfin's storage (`exports/<taskId>/…`, downloaded through
 * a link, download-link.ts) or into a user bucket folder.
 */

/** Where V1 `exportTo: 1` writes inside the user's bucket (V1 names only the bucket). */
const V1_BUCKET_FOLDER = "sailfin/dataset_export/";

/** `runs.spec` of a `dataset-export` run. */
export interface DatasetExportSpec {
  readonly specVersion: 1;
  readonly kind: "dataset-export";
  readonly versionNum: number;
  readonly versionId: string;
  /** The access key that asked (V1 `creatorName`, V2 `creator`). */
  readonly creator: string;
  readonly destination: "sysStorage" | "BOS";
  /** BOS: the bucket and the folder inside it ("" or ending in `/`); null for sysStorage. */
  readonly bucket: string | null;
  readonly folder: string | null;
  /** V1's 1 (with annotations) or 2 (source only); the same records for a text dataset. */
  readonly exportType: 1 | 2;
}

/** `runs.result` of a finished dataset export. */
export interface DatasetExportResult {
  readonly key: string;
  readonly fileName: string;
  /** Where the file is as the dialects show it: `bos:/bucket/dir/name.zip`, or `/exports/<taskId>/name.zip`. */
  readonly storagePath: string;
  readonly bytes: number;
  readonly records: number;
}

interface CreateDatasetExportInput {
  readonly versionRef: V1Id;
  readonly versionField: string;
  readonly destination: "sysStorage" | "BOS";
  /** BOS: `bos:/bucket/dir/` (V2 `storagePath`), or with `bucketOnly` a bucket name (V1 `storageId`). */
  readonly storagePath?: string;
  readonly bucketOnly?: boolean;
  readonly storagePathField: string;
  readonly exportType?: 1 | 2;
}

/**
 * Checks and queues an export of a version's imported records.
 *
 * @example const { id } = await createDatasetExport(res, actor, { versionRef: "ds-…", versionField: "versionId", destination: "sysStorage", storagePathField: "storagePath" });
 */
export async function createDatasetExport(res: EngineResources, actor: Actor, input: CreateDatasetExportInput): Promise<{ id: string; num: number }> {
  const { version } = await findDatasetVersion(res.db, input.versionRef, input.versionField);
  if (version.data_path === null || (version.state !== "Imported" && version.state !== "Released")) {
    throw new SailfinError("InvalidParameter", { field: input.versionField, detail: `dataset version ${version.id} has no imported records to export (${version.state})` });
  }
  let bucket: string | null = null;
  let folder: string | null = null;
  if (input.destination === "BOS") {
    const path = input.storagePath ?? "";
    if (path === "") throw new SailfinError("InvalidParameter", { field: input.storagePathField, detail: "a BOS export needs the folder to write into (bos:/bucket/dir/)" });
    const location = parseBucketUri(input.bucketOnly === true ? `bos:/${path}/${V1_BUCKET_FOLDER}` : path, input.storagePathField);
    bucket = location.bucket;
    folder = location.objectPath === "" || location.objectPath.endsWith("/") ? location.objectPath : `${location.objectPath}/`;
  } else if (input.storagePath !== undefined && input.storagePath !== "") {
    throw new SailfinError("InvalidParameter", { field: input.storagePathField, detail: "is for BOS exports only; a sysStorage export is downloaded through its link" });
  }
  const id = newId("datasetExport");
  const spec: DatasetExportSpec = {
    specVersion: 1, kind: "dataset-export", versionNum: version.num, versionId: version.id, creator: actor.accessKey,
    destination: input.destination, bucket, folder, exportType: input.exportType ?? 1,
  };
  const num = await res.db.transaction().execute((trx) => enqueueRun(trx, actor, {
    id, kind: "dataset-export", name: `export of ${version.id}`, spec, datasetVersionNum: version.num,
  }));
  return { id, num };
}

/** An export task as routes render it. */
export interface DatasetExportView extends WorkRunView<DatasetExportSpec, DatasetExportResult> {
  readonly startedAt: string | null;
}

function toView(row: WorkRow): DatasetExportView {
  return {
    ...toWorkRunView<DatasetExportSpec, DatasetExportResult>(row), startedAt: row.started_at,
  };
}

/** One export by its `task-…` id, or NotFound naming `field`. */
export async function describeDatasetExport(res: EngineResources, ref: string, field: string): Promise<DatasetExportView> {
  return toView(await findWorkRun(res.db, "dataset-export", ref, field, "export task"));
}

/** The exports of a dataset version, newest first (V1 `exportRecord`; at most `limit`). */
export async function listDatasetExports(res: EngineResources, versionRef: V1Id, field: string, limit = 100): Promise<DatasetExportView[]> {
  const { version } = await findDatasetVersion(res.db, versionRef, field);
  return datasetExportsOf(res, version.num, limit);
}

/**
 * The exports of a version by its number, newest first: what V1 `dataset/info` counts
 * (`exportRecordCount`) and whose newest it shows (`exportStatus`, `exportProgress`).
 */
export async function datasetExportsOf(res: EngineResources, versionNum: number, limit = 100): Promise<DatasetExportView[]> {
  const rows = await res.db.selectFrom("runs").selectAll().where("dataset_version_num", "=", versionNum).where("kind", "=", "dataset-export")
    .orderBy("num", "desc").limit(limit).execute();
  return rows.map(toView);
}

/**
 * For deleting dataset versions (inside their transaction): refuses while an export of one of
 * them is queued or running, then removes their finished exports' rows and returns the artifact
 * folders to remove after commit, so a deleted version's records cannot be downloaded through an
 * old export. Exports written into a user's bucket are the user's files and stay.
 *
 * @example const folders = await removeDatasetExports(trx, [version.num], "versionId"); // after commit: delete each folder
 */
export async function removeDatasetExports(trx: Db, versionNums: readonly number[], field: string): Promise<string[]> {
  if (versionNums.length === 0) return [];
  const rows = await trx.selectFrom("runs").select(["num", "id", "kind", "status", "cancel_requested", "spec"])
    .where("kind", "=", "dataset-export").where("dataset_version_num", "in", [...versionNums]).execute();
  const active = rows.find((r) => r.status === "Queued" || r.status === "Running");
  if (active !== undefined) {
    throw new SailfinError("Conflict", { field, detail: `export task ${active.id} (${STATE_WORD}) is still reading the dataset version; wait for it to finish`, state: runStateOf(active) });
  }
  if (rows.length > 0) await trx.deleteFrom("runs").where("num", "in", rows.map((r) => r.num)).execute();
  return rows.filter((r) => (JSON.parse(r.spec) as DatasetExportSpec).destination === "sysStorage").map((r) => `exports/${r.id}/`);
}
