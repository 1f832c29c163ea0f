import type { Kysely } from "kysely";

/**
 * Columns of `runs` that say what they hold (issue 12). Frozen in time: never import application
 * code here.
 *
 * - `reads_run_num`: the run whose outcome this run reads (an export's evaluation). Exports kept
 *   it in `increment_run_num`, which now means only the run an incremental fine-tuning run starts
 *   from; existing exports move over.
 * - `train_mode` of runs that train nothing (compress, evaluate, eval-export) held their kind,
 *   which `kind` already says; it is '' for them now, as `parameter_scale` already was. A publish
 *   run keeps the train mode of the run it publishes.
 */
type Dialect = "sqlite" | "postgres";

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bigint = dialect === "postgres" ? "bigint" : "integer";
  await db.schema.alterTable("runs").addColumn("reads_run_num", bigint).execute();
  // One statement: both assignments read the row as it was.
  await db.updateTable("runs")
    .set((eb) => ({ reads_run_num: eb.ref("increment_run_num"), increment_run_num: null }))
    .where("kind", "=", "eval-export")
    .execute();
  await db.updateTable("runs").set({ train_mode: "" }).where("kind", "in", ["compress", "evaluate", "eval-export"]).execute();
}
