import type { Kysely } from "kysely";

/**
 * Where a run executes (issue 13, resource pools). Frozen in time: never import application code
 * here.
 *
 * - `pool_id`, `node_num`, `processes_per_node`: the resource pool, nodes and ranks a node the
 *   run was queued for; workers claim only runs of the pools they serve. Runs queued before pools
 *   existed ran on the worker's own machine, one process: the built-in `local` pool's placement
 *   (SQLite adds a NOT NULL column only with a default).
 * - `executor_job_id`: the executor's own id of the run's current job (a Slurm job id), recorded
 *   when the executor starts or adopts it; null for the local executor and before a job exists.
 * - `workers.pools`: the pools a live worker serves, comma-separated, so a describe route can say
 *   that no worker serves a queued run's pool; '' for a worker that claims runs of any pool (every
 *   serving process's import worker, and workers from before pools).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("runs").addColumn("pool_id", "text", (c) => c.notNull().defaultTo("local")).execute();
  await db.schema.alterTable("runs").addColumn("node_num", "integer", (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable("runs").addColumn("processes_per_node", "integer", (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable("runs").addColumn("executor_job_id", "text").execute();
  await db.schema.alterTable("workers").addColumn("pools", "text", (c) => c.notNull().defaultTo("")).execute();
}
