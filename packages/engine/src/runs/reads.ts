import type { Kysely } from "kysely";
import type { Database } from "@sailfin/store";
import type { ModelVersionRef, StoredRun } from "./deps.js";

/**
 * The reads run kinds make, as records (RunReads in production). Small on purpose: a kind reads a
 * few rows by number once per attempt.
 */

/** A model version by number or id, or null. @example await readModelVersion(db, { num: 3 }) */
export async function readModelVersion(db: Kysely<Database>, ref: { readonly num: number } | { readonly id: string }): Promise<ModelVersionRef | null> {
  let query = db.selectFrom("model_versions").select(["num", "id", "status", "artifact_path", "size_bytes", "source_run_num"]);
  query = "num" in ref ? query.where("num", "=", ref.num) : query.where("id", "=", ref.id);
  const row = await query.executeTakeFirst();
  if (row === undefined) return null;
  return {
    num: row.num, id: row.id, status: row.status, artifactPath: row.artifact_path, sizeBytes: Number(row.size_bytes), sourceRunNum: row.source_run_num,
  };
}

/** The newest checkpoint row of a run, or null. @example await readLatestCheckpoint(db, 12) */
export async function readLatestCheckpoint(db: Kysely<Database>, runNum: number): Promise<{ step: number; path: string } | null> {
  const row = await db.selectFrom("run_checkpoints").select(["step", "path"])
    .where("run_num", "=", runNum).orderBy("step", "desc").limit(1).executeTakeFirst();
  return row ?? null;
}

/** The checkpoint folders a run's rows name (those a remote store keeps). @example await readCheckpointPaths(db, 12) */
export async function readCheckpointPaths(db: Kysely<Database>, runNum: number): Promise<string[]> {
  const rows = await db.selectFrom("run_checkpoints").select("path").where("run_num", "=", runNum).execute();
  return rows.map((r) => r.path);
}

/** A run's kind, name and stored spec, or null. @example await readStoredRun(db, 7) */
export async function readStoredRun(db: Kysely<Database>, runNum: number): Promise<StoredRun | null> {
  const row = await db.selectFrom("runs").select(["num", "id", "kind", "name", "spec"]).where("num", "=", runNum).executeTakeFirst();
  return row ?? null;
}

/** Whether a model set still exists. @example await modelSetExists(db, 4) */
export async function modelSetExists(db: Kysely<Database>, setNum: number): Promise<boolean> {
  return (await db.selectFrom("model_sets").select("num").where("num", "=", setNum).executeTakeFirst()) !== undefined;
}
