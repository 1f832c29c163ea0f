import { STATE_WORD, SailfinError, nowIso, type RunStatus, type V1Id } from "@sailfin/contract";
import { appendEvent, type Db } from "@sailfin/store";
import { runStateOf } from "../queue/run-state.js";
import type { Actor, EngineResources } from "../resources.js";
import { lockRows } from "../row-lock.js";
import { removeDatasetExports } from "../exports/dataset-exports.js";
import { findDatasetGroup, findDatasetVersion, lockDatasetVersions, type DatasetGroupRow, type DatasetVersionRow } from "./records.js";

/** Runs in these states still need their dataset files (a paused run resumes later). */
const ACTIVE_RUNS: readonly RunStatus[] = ["Queued", "Running", "Paused"];

/**
 * Deletes one dataset version (V2 `DeleteDatasetVersion`; V1 `delete`, which also removes the
 * group once its last version is gone: V1 has no group delete). Refused (Conflict) while an
 * import into it or an export of it runs, or while a fine-tuning run that is not finished trains
 * on it. Its finished exports go with it (removeDatasetExports). Returns
 * how many versions the group still has. The version is re-read and locked inside the
 * transaction before the run check (see lockDatasetVersions), as creating a run locks it too:
 * of a delete and a create racing, one sees the other's result, never a run on a deleted version.
 *
 * @example const { remaining } = await deleteDatasetVersion(res, actor, "ds-…", "versionId");
 */
export async function deleteDatasetVersion(
  res: EngineResources,
  actor: Actor,
  ref: V1Id,
  field: string,
  options: { readonly dropEmptyGroup?: boolean } = {},
): Promise<{ group: DatasetGroupRow; version: DatasetVersionRow; remaining: number }> {
  const { group, version } = await findDatasetVersion(res.db, ref, field);
  let exportFolders: string[] = [];
  const remaining = await res.db.transaction().execute(async (trx) => {
    const [locked] = await lockDatasetVersions(trx, res.dialect, [version.num], "update");
    if (locked === undefined) throw new SailfinError("NotFound", { field, detail: `dataset version ${version.id} was deleted meanwhile` });
    await assertDeletable(trx, [locked], field);
    exportFolders = await removeDatasetExports(trx, [locked.num], field);
    await removeVersions(trx, actor, [locked]);
    const left = await trx.selectFrom("dataset_versions").select((eb) => eb.fn.countAll().as("n")).where("group_num", "=", group.num).executeTakeFirstOrThrow();
    const count = Number(left.n);
    if (count === 0 && options.dropEmptyGroup) await removeGroup(trx, actor, group);
    else await trx.updateTable("dataset_groups").set({ modified_at: nowIso() }).where("num", "=", group.num).execute();
    return count;
  });
  await removeFiles(res, [version], exportFolders);
  return { group, version, remaining };
}

/**
 * Deletes a dataset (group) with all its versions, under the same conditions for every version.
 *
 * @example const { versionCount } = await deleteDataset(res, actor, "ds-…", "datasetId");
 */
export async function deleteDataset(res: EngineResources, actor: Actor, datasetId: string, field: string): Promise<{ group: DatasetGroupRow; versionCount: number }> {
  const group = await findDatasetGroup(res.db, datasetId, field);
  let exportFolders: string[] = [];
  const versions = await res.db.transaction().execute(async (trx) => {
    const rows = await lockRows(trx.selectFrom("dataset_versions").selectAll().where("group_num", "=", group.num).orderBy("num"), res.dialect, "update").execute();
    await assertDeletable(trx, rows, field);
    exportFolders = await removeDatasetExports(trx, rows.map((r) => r.num), field);
    await removeVersions(trx, actor, rows);
    await removeGroup(trx, actor, group);
    return rows;
  });
  await removeFiles(res, versions, exportFolders);
  return { group, versionCount: versions.length };
}

async function assertDeletable(db: Db, versions: readonly DatasetVersionRow[], field: string): Promise<void> {
  for (const version of versions) {
    if (version.state === "Importing") {
      throw new SailfinError("Conflict", { field, detail: `an import into dataset version ${version.id} is still running` });
    }
    // `dataset_hashes` is `{versionId: hash}` JSON; ids are [a-z0-9-], safe inside LIKE.
    const user = await db.selectFrom("runs").select(["id", "kind", "status", "cancel_requested"])
      .where("status", "in", [...ACTIVE_RUNS])
      .where("dataset_hashes", "like", `%"${version.id}"%`)
      .executeTakeFirst();
    if (user !== undefined) {
      throw new SailfinError("Conflict", {
        field, detail: `fine-tuning task ${user.id} (${STATE_WORD}) trains on dataset version ${version.id}; wait for it or stop it first`, state: runStateOf(user),
      });
    }
  }
}

async function removeVersions(db: Db, actor: Actor, versions: readonly DatasetVersionRow[]): Promise<void> {
  if (versions.length === 0) return;
  const nums = versions.map((v) => v.num);
  await db.deleteFrom("dataset_imports").where("version_num", "in", nums).execute();
  await db.deleteFrom("dataset_versions").where("num", "in", nums).execute();
  for (const v of versions) {
    await appendEvent(db, { objectKind: "datasetVersion", objectId: v.id, actor: actor.accessKey, from: null, to: "Deleted" });
  }
}

async function removeGroup(db: Db, actor: Actor, group: DatasetGroupRow): Promise<void> {
  await db.deleteFrom("dataset_groups").where("num", "=", group.num).execute();
  await appendEvent(db, { objectKind: "dataset", objectId: group.id, actor: actor.accessKey, from: null, to: "Deleted" });
}

/** Files go after the rows (a crash in between leaves only unreferenced bytes). */
async function removeFiles(res: EngineResources, versions: readonly DatasetVersionRow[], exportFolders: readonly string[]): Promise<void> {
  for (const folder of [...versions.map((v) => `datasets/${v.id}/`), ...exportFolders]) {
    try {
      await res.artifacts.delete(folder);
    } catch (error) {
      res.log.warn({ err: error, folder }, "could not remove the files of a deleted dataset version");
    }
  }
}
