import type { Selectable, Transaction } from "kysely";
import { SailfinError, isIdOf, nowIso, type ErrorId } from "@sailfin/contract";
import { appendEvent, type Database, type Db, type Dialect, type ModelSetTable, type ModelVersionTable } from "@sailfin/store";
import type { Actor } from "../resources.js";
import { lockRows, type RowLockMode } from "../row-lock.js";

/** Row access shared by the model-repository operations. */
export type ModelSetRow = Selectable<ModelSetTable>;
export type ModelVersionRow = Selectable<ModelVersionTable>;

/** Event object kinds of this family. */
export const MODEL_SET_KIND = "model_set";
export const MODEL_VERSION_KIND = "model_version";

/** A V1/V2 id reference: the numeric id (number or digits) or the public `am-`/`amv-` id. */
export type IdRef = number | string;

function numericRef(ref: IdRef): number | null {
  if (typeof ref === "number") return Number.isSafeInteger(ref) && ref >= 0 ? ref : null;
  return /^\d{1,15}$/.test(ref) ? Number(ref) : null;
}

/** The model set `ref` names, or NotFound naming `field`. */
export async function findSet(db: Db, ref: IdRef, field: string): Promise<ModelSetRow> {
  const num = numericRef(ref);
  let q = db.selectFrom("model_sets").selectAll();
  if (num !== null) q = q.where("num", "=", num);
  else if (isIdOf("modelSet", ref as string)) q = q.where("id", "=", ref as string);
  else throw new SailfinError("NotFound", { field, detail: `no model ${String(ref)}` });
  const row = await q.executeTakeFirst();
  if (row === undefined) throw new SailfinError("NotFound", { field, detail: `no model ${String(ref)}` });
  return row;
}

/** The model set named `name`, or null. */
export async function findSetByName(db: Db, name: string): Promise<ModelSetRow | null> {
  return (await db.selectFrom("model_sets").selectAll().where("name", "=", name).executeTakeFirst()) ?? null;
}

/**
 * The model version `ref` names, or an error naming `field`: `ModelVersionNotFound` (V1 70102)
 * where the V1 reference uses it, `NotFound` elsewhere.
 */
export async function findVersion(db: Db, ref: IdRef, field: string, missing: ErrorId = "NotFound"): Promise<ModelVersionRow> {
  // V1 clients match 70102's message exactly ("AI模型版本记录不存在"), so it carries no suffix.
  const notFound = () => missing === "ModelVersionNotFound"
    ? new SailfinError(missing)
    : new SailfinError(missing, { field, detail: `no model version ${String(ref)}` });
  const num = numericRef(ref);
  let q = db.selectFrom("model_versions").selectAll();
  if (num !== null) q = q.where("num", "=", num);
  else if (isIdOf("modelVersion", ref as string)) q = q.where("id", "=", ref as string);
  else throw notFound();
  const row = await q.executeTakeFirst();
  if (row === undefined) throw notFound();
  return row;
}

/**
 * Re-reads versions inside a transaction and locks them until it ends (PostgreSQL; SQLite
 * transactions are single-writer already), in number order so two lockers cannot deadlock.
 * A version deleted meanwhile is simply absent. Deleting a version (`update`) and creating a
 * fine-tuning run on it (`share`) both take this lock before checking the other side, so one of
 * them always sees the other's committed result.
 */
export async function lockModelVersions(
  trx: Transaction<Database>, dialect: Dialect, nums: readonly number[], mode: RowLockMode,
): Promise<ModelVersionRow[]> {
  if (nums.length === 0) return [];
  return lockRows(trx.selectFrom("model_versions").selectAll().where("num", "in", [...nums]).orderBy("num", "asc"), dialect, mode).execute();
}

/** A version published from one of these runs (its lineage names the run), or null. */
export async function findVersionPublishedFrom(db: Db, runNums: readonly number[]): Promise<{ id: string; runNum: number } | null> {
  if (runNums.length === 0) return null;
  const row = await db.selectFrom("model_versions").select(["id", "source_run_num"]).where("source_run_num", "in", [...runNums]).executeTakeFirst();
  return row === undefined || row.source_run_num === null ? null : { id: row.id, runNum: row.source_run_num };
}

/** The next version number of a set (1 for the first). Call inside the inserting transaction. */
async function nextVersionNumber(db: Db, setNum: number): Promise<number> {
  const row = await db
    .selectFrom("model_versions")
    .select((eb) => eb.fn.max("version").as("max"))
    .where("set_num", "=", setNum)
    .executeTakeFirst();
  return Number(row?.max ?? 0) + 1;
}

interface NewVersion {
  readonly id: string;
  readonly setNum: number;
  readonly description: string;
  readonly sourceType: "Train" | "Import" | "Acceleration";
  readonly sourceRunNum?: number;
  readonly sourceStep?: number;
  /** The compression run an Acceleration version came from. */
  readonly sourceCompNum?: number;
  readonly importBucket?: string;
  readonly importObject?: string;
  readonly architecture?: string | null;
  readonly configSummary?: string | null;
}

/** Inserts a `Creating` version with its first event; returns the row. */
export async function insertCreatingVersion(trx: Db, actor: Actor, input: NewVersion): Promise<ModelVersionRow> {
  const now = nowIso();
  // The set's row is written before the max is read: on PostgreSQL that row lock queues concurrent
  // creations in one set, so each numbers after the previous one committed (reading first, parallel
  // creations exhausted withVersionNumberRetry and answered 500).
  const touched = await trx.updateTable("model_sets").set({ modified_at: now }).where("num", "=", input.setNum).executeTakeFirst();
  if (Number(touched.numUpdatedRows) === 0) throw new SailfinError("NotFound", { detail: `model set ${input.setNum} no longer exists` });
  const version = await nextVersionNumber(trx, input.setNum);
  await trx
    .insertInto("model_versions")
    .values({
      id: input.id,
      set_num: input.setNum,
      version,
      description: input.description,
      source_type: input.sourceType,
      source_run_num: input.sourceRunNum ?? null,
      source_step: input.sourceStep ?? null,
      source_comp_num: input.sourceCompNum ?? null,
      import_bucket: input.importBucket ?? null,
      import_object: input.importObject ?? null,
      status: "Creating",
      fail_reason: null,
      architecture: input.architecture ?? null,
      config_summary: input.configSummary ?? null,
      artifact_path: null,
      size_bytes: 0,
      created_at: now,
      modified_at: now,
    })
    .execute();
  await appendEvent(trx, {
    objectKind: MODEL_VERSION_KIND, objectId: input.id, actor: actor.accessKey, from: null, to: "Creating",
    reason: `source ${input.sourceType}`,
  });
  return trx.selectFrom("model_versions").selectAll().where("id", "=", input.id).executeTakeFirstOrThrow();
}

export interface VersionOutcome {
  readonly status: "Ready" | "Fail";
  readonly failReason?: string;
  readonly artifactPath?: string;
  readonly sizeBytes?: number;
  readonly architecture?: string | null;
  readonly configSummary?: string | null;
}

/**
 * Moves a `Creating` version to Ready or Fail, with its event (call inside the transaction that
 * ends its run). Returns false when the version is no longer Creating (finished by another
 * process): the caller then owns cleaning up what it wrote.
 */
export async function finishVersion(trx: Db, actor: Actor, versionNum: number, outcome: VersionOutcome): Promise<boolean> {
  const row = await trx.selectFrom("model_versions").select(["id", "status"]).where("num", "=", versionNum).executeTakeFirst();
  if (row === undefined || row.status !== "Creating") return false;
  const patch: Partial<Record<keyof ModelVersionTable, unknown>> = {
    status: outcome.status,
    fail_reason: outcome.failReason ?? null,
    modified_at: nowIso(),
  };
  if (outcome.artifactPath !== undefined) patch.artifact_path = outcome.artifactPath;
  if (outcome.sizeBytes !== undefined) patch.size_bytes = outcome.sizeBytes;
  if (outcome.architecture !== undefined) patch.architecture = outcome.architecture;
  if (outcome.configSummary !== undefined) patch.config_summary = outcome.configSummary;
  const updated = await trx
    .updateTable("model_versions")
    .set(patch as never)
    .where("num", "=", versionNum)
    .where("status", "=", "Creating")
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) return false;
  await appendEvent(trx, {
    objectKind: MODEL_VERSION_KIND, objectId: row.id, actor: actor.accessKey, from: "Creating", to: outcome.status,
    ...(outcome.failReason === undefined ? {} : { reason: outcome.failReason }),
  });
  return true;
}

/** The artifact folder of a version's files. */
export function versionFolder(versionId: string): string {
  return `models/${versionId}/`;
}

/** Where a version's files are: the path its row records, else its artifact folder. */
export function versionFilesKey(version: { readonly id: string; readonly artifactPath: string | null }): string {
  return version.artifactPath ?? versionFolder(version.id);
}
