import type { Kysely } from "kysely";

/**
 * Dataset exports (issue 13): `runs.dataset_version_num` is the dataset version a
 * `dataset-export` run reads (null for every other kind), so `dataset/exportRecord` and
 * `dataset/info` find a version's exports with an index instead of reading inside the JSON spec.
 * Frozen in time: never import application code here.
 */
type Dialect = "sqlite" | "postgres";

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bigint = dialect === "postgres" ? "bigint" : "integer";
  await db.schema.alterTable("runs").addColumn("dataset_version_num", bigint).execute();
  await db.schema.createIndex("runs_dataset_version").on("runs").columns(["dataset_version_num", "num"]).execute();
}
