import { STATE_WORD, SailfinError, isTerminalRun, type RunStatus } from "@sailfin/contract";
import { appendEvent, type Db } from "@sailfin/store";
import { removeModelExports } from "../exports/model-exports.js";
import { runStateOf } from "../queue/run-state.js";
import type { Actor, EngineResources } from "../resources.js";
import { lockRows } from "../row-lock.js";
import {
  MODEL_SET_KIND, MODEL_VERSION_KIND, lockModelVersions, versionFolder, type ModelVersionRow,
} from "./model-rows.js";
import type { ModelSetRecord, ModelVersionRecord } from "./records.js";

/**
 * Deleting model versions and sets. A version that a fine-tuning run uses as its base model
 * (`runs.base_model_version_num`, whatever the run's status: a finished run's lineage and an
 * incremental run's base still point at it) cannot be deleted: Conflict, naming the run. A
 * version still `Creating` cannot either (its import or copy is running). Rows go first, in one
 * transaction with their events; the files under `models/<versionId>/` are removed after commit
 * (a crash in between leaves orphan files, never a row without files).
 *
 * The versions are re-read and locked inside that transaction before the run check (see
 * lockModelVersions): creating a run on a version locks it too, so a delete racing a create
 * either sees the new run (Conflict) or removes the version before the create re-reads it
 * (the create is refused) — never a run on a deleted version.
 */

/** Deletes versions (all or none). `field` names the request field for errors. */
export async function deleteModelVersions(
  res: EngineResources, actor: Actor, versions: readonly ModelVersionRecord[], field?: string,
): Promise<void> {
  const removed = await res.db.transaction().execute(async (trx) => {
    const locked = await lockModelVersions(trx, res.dialect, versions.map((v) => v.num), "update");
    const gone = versions.find((v) => !locked.some((l) => l.num === v.num));
    if (gone !== undefined) {
      throw new SailfinError("NotFound", { ...(field === undefined ? {} : { field }), detail: `model version ${gone.id} was deleted meanwhile` });
    }
    await assertDeletable(trx, locked, field);
    const exportFolders = await removeVersions(trx, actor, locked);
    return { locked, exportFolders };
  });
  await removeFiles(res, removed.locked, removed.exportFolders);
}

/** Deletes sets with all their versions (all or none). */
export async function deleteModelSets(res: EngineResources, actor: Actor, sets: readonly ModelSetRecord[], field?: string): Promise<void> {
  const removed: ModelVersionRow[] = [];
  const exportFolders: string[] = [];
  await res.db.transaction().execute(async (trx) => {
    const setNums = sets.map((s) => s.num);
    const versions = setNums.length === 0
      ? []
      : await lockRows(trx.selectFrom("model_versions").selectAll().where("set_num", "in", setNums).orderBy("num", "asc"), res.dialect, "update").execute();
    await assertDeletable(trx, versions, field);
    exportFolders.push(...await removeVersions(trx, actor, versions));
    for (const set of sets) {
      await trx.deleteFrom("model_sets").where("num", "=", set.num).execute();
      await appendEvent(trx, { objectKind: MODEL_SET_KIND, objectId: set.id, actor: actor.accessKey, from: "Created", to: "Deleted" });
    }
    removed.push(...versions);
  });
  await removeFiles(res, removed, exportFolders);
}

async function assertDeletable(trx: Db, versions: readonly ModelVersionRow[], field: string | undefined): Promise<void> {
  if (versions.length === 0) return;
  const creating = versions.find((v) => v.status === "Creating");
  if (creating !== undefined) {
    throw new SailfinError("Conflict", { ...(field === undefined ? {} : { field }), detail: `model version ${creating.id} is still being created; wait until it is Ready or Fail` });
  }
  const nums = versions.map((v) => v.num);
  // A service names its version whether it runs or is stopped: deleting the version would leave it nothing to start.
  const service = await trx.selectFrom("services").select(["id", "url_suffix", "model_version_num"]).where("model_version_num", "in", nums).executeTakeFirst();
  if (service !== undefined) {
    const version = versions.find((v) => v.num === Number(service.model_version_num))!;
    throw new SailfinError("Conflict", {
      ...(field === undefined ? {} : { field }),
      detail: `model version ${version.id} is deployed as service ${service.id} (${service.url_suffix}); delete the service first`,
    });
  }
  const users = await trx
    .selectFrom("runs").select(["id", "kind", "status", "cancel_requested", "result", "base_model_version_num"])
    .where("base_model_version_num", "in", nums)
    // A finished publish (export) no longer needs its base; a queued or running one does.
    .where((eb) => eb.or([eb("kind", "=", "finetune"), eb("status", "in", ["Queued", "Running"])]))
    .orderBy("num", "asc").limit(5).execute();
  if (users.length > 0) {
    // Name an active run first: that is the one the caller most likely forgot.
    const shown = users.find((u) => !isTerminalRun(u.status as RunStatus)) ?? users[0]!;
    const version = versions.find((v) => v.num === shown.base_model_version_num)!;
    throw new SailfinError("Conflict", {
      ...(field === undefined ? {} : { field }),
      detail: `model version ${version.id} is ${shown.kind === "finetune" ? "the base model of fine-tuning task" : `used by the ${shown.kind} run`} ${shown.id} (${STATE_WORD})` +
        `${users.length > 1 ? " and others" : ""}; delete those tasks first`,
      state: runStateOf(shown),
    });
  }
}

/** Removes the rows (and the finished exports of each); returns the export folders to remove after commit. */
async function removeVersions(trx: Db, actor: Actor, versions: readonly ModelVersionRow[]): Promise<string[]> {
  const exportFolders = await removeModelExports(trx, versions.map((v) => v.num));
  for (const v of versions) {
    await trx.deleteFrom("model_versions").where("num", "=", v.num).execute();
    await appendEvent(trx, { objectKind: MODEL_VERSION_KIND, objectId: v.id, actor: actor.accessKey, from: v.status, to: "Deleted" });
  }
  return exportFolders;
}

async function removeFiles(res: EngineResources, versions: readonly ModelVersionRow[], exportFolders: readonly string[]): Promise<void> {
  for (const folder of [...versions.map((v) => versionFolder(v.id)), ...exportFolders]) {
    try {
      await res.artifacts.delete(folder);
    } catch (error) {
      res.log.warn({ err: error, folder }, "could not delete model files; they are orphaned");
    }
  }
}
