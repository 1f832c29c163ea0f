import type { Kysely } from "kysely";

/**
 * Worker presence (issue 11). Frozen in time: never import application code here.
 *
 * - `workers`: one row per live worker process (embedded in `sailfin serve` or a standalone
 *   `sailfin worker`, on any replica), with the run kinds its slots take. A worker writes its row
 *   at start, pushes `expires_at` forward at every heartbeat and deletes the row when it shuts
 *   down cleanly; a worker that died leaves a row whose `expires_at` passes, which every reader
 *   ignores (and the next announcement deletes). The describe routes read it to say why a queued
 *   task waits (`waitingReason`).
 */
type Dialect = "sqlite" | "postgres";

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.createTable("workers")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kinds", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("pid", "integer", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("heartbeat_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("workers_expires").on("workers").column("expires_at").execute();
}
