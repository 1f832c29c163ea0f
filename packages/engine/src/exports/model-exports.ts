import { SailfinError, newId } from "@sailfin/contract";
import type { Db } from "@sailfin/store";
import { parseBucketUri } from "../artifacts/keys.js";
import { findVersion } from "../models/model-rows.js";
import { enqueueRun } from "../queue/enqueue.js";
import type { WorkRow } from "../queue/find-work.js";
import type { Actor, EngineResources } from "../resources.js";
import { toWorkRunView, type WorkRunView } from "../work-run-record.js";

/**
 * Model exports (V2 `CreateModelExportTask` / `DescribeModelExportTask`): a `runs` row of kind
 * `model-export` (id `amexp-…`, the version in `base_model_version_num`, which keeps the version
 * from being deleted while the export runs) whose worker packs the version's Hugging Face folder
 * into one tar (execute-model-export.ts says why tar) in Sailfin's storage, downloaded through a
 * link, or in a user bucket folder (Sailfin's `storagePath` extension).
 */

/** `runs.spec` of a `model-export` run. */
export interface ModelExportSpec {
  readonly specVersion: 1;
  readonly kind: "model-export";
  readonly versionNum: number;
  readonly versionId: string;
  readonly creator: string;
  /** A bucket folder ("" or ending in `/`) to write into; null: Sailfin's storage. */
  readonly bucket: string | null;
  readonly folder: string | null;
}

/** `runs.result` of a finished model export. */
export interface ModelExportResult {
  readonly key: string;
  readonly fileName: string;
  readonly fileType: "tar";
  /** Hex MD5 of the archive (what DescribeModelExportTask names). */
  readonly md5: string;
  readonly bytes: number;
  readonly files: number;
  /** `bos:/bucket/dir/name.tar`, or `/exports/<exportId>/name.tar`. */
  readonly storagePath: string;
}

interface CreateModelExportInput {
  readonly modelRef: string;
  readonly modelField: string;
  readonly storagePath?: string;
  readonly storagePathField: string;
}

/**
 * Checks and queues an export of a Ready model version's files.
 *
 * @example const { id } = await createModelExport(res, actor, { modelRef: "amv-…", modelField: "modelId", storagePathField: "storagePath" });
 */
export async function createModelExport(res: EngineResources, actor: Actor, input: CreateModelExportInput): Promise<{ id: string; num: number }> {
  const version = await findVersion(res.db, input.modelRef, input.modelField);
  if (version.status !== "Ready") {
    throw new SailfinError("InvalidParameter", { field: input.modelField, detail: `model version ${version.id} is ${version.status}; only a Ready version can be exported` });
  }
  let bucket: string | null = null;
  let folder: string | null = null;
  if (input.storagePath !== undefined && input.storagePath !== "") {
    const location = parseBucketUri(input.storagePath, input.storagePathField);
    bucket = location.bucket;
    folder = location.objectPath === "" || location.objectPath.endsWith("/") ? location.objectPath : `${location.objectPath}/`;
  }
  const id = newId("modelExport");
  const spec: ModelExportSpec = { specVersion: 1, kind: "model-export", versionNum: version.num, versionId: version.id, creator: actor.accessKey, bucket, folder };
  const num = await res.db.transaction().execute((trx) => enqueueRun(trx, actor, {
    id, kind: "model-export", name: `export of ${version.id}`, spec, modelVersionNum: version.num,
  }));
  return { id, num };
}

/** An export as routes render it. */
export type ModelExportView = WorkRunView<ModelExportSpec, ModelExportResult>;

const toView = (row: WorkRow): ModelExportView => toWorkRunView(row);

/**
 * The newest export of a version that has not failed (DescribeModelExportTask is keyed by the
 * version and "excludes failed tasks"; a stopped one is left out too), or null.
 */
export async function latestModelExport(res: EngineResources, modelRef: string, field: string): Promise<ModelExportView | null> {
  const version = await findVersion(res.db, modelRef, field);
  const row = await res.db.selectFrom("runs").selectAll().where("kind", "=", "model-export").where("base_model_version_num", "=", version.num)
    .where("status", "not in", ["Failed", "Cancelled"]).orderBy("num", "desc").limit(1).executeTakeFirst();
  return row === undefined ? null : toView(row);
}

/**
 * For deleting model versions (inside their transaction, after the check that no run of any
 * kind on them is active): removes their finished exports' rows and returns the artifact folders
 * to remove after commit, so a deleted version's files cannot be downloaded through an old
 * export. Archives written into a user's bucket are the user's files and stay.
 *
 * @example const folders = await removeModelExports(trx, versions.map((v) => v.num));
 */
export async function removeModelExports(trx: Db, versionNums: readonly number[]): Promise<string[]> {
  if (versionNums.length === 0) return [];
  const rows = await trx.selectFrom("runs").select(["num", "id", "spec"])
    .where("kind", "=", "model-export").where("base_model_version_num", "in", [...versionNums]).execute();
  if (rows.length > 0) await trx.deleteFrom("runs").where("num", "in", rows.map((r) => r.num)).execute();
  return rows.filter((r) => (JSON.parse(r.spec) as ModelExportSpec).bucket === null).map((r) => `exports/${r.id}/`);
}
