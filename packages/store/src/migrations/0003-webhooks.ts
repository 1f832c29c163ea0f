import { type Kysely, sql } from "kysely";

/**
 * Live events and signed webhooks (issue 5). Frozen in time: never import application code here.
 *
 * - `webhooks`: one registration per row, owned by an access key; the secret is sealed like
 *   access-key secrets (the signature needs the secret itself). `from_event_num` is the last
 *   event that existed at registration: older events are never delivered to it.
 * - `webhook_deliveries`: one row per (webhook, event), unique, so a fan-out that runs twice
 *   (two replicas, a retry after a crash) cannot send an event twice; the row carries its retry
 *   state (attempts, next attempt, last answer).
 * - `webhook_cursor`: how far the fan-out has read `events`, so a restart resumes there. It
 *   starts at the newest event: history from before this migration is never fanned out.
 * - Two indexes on `run_metrics` for the event stream, which reads a run's rows after a cursor
 *   (by `num`, not by step) and the rows whose eval loss arrived after the row was sent (a
 *   partial index: only rows with an eval loss are in it, so that scan stays tiny).
 */
type Dialect = "sqlite" | "postgres";

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bigint = dialect === "postgres" ? "bigint" : "integer";
  const withNum = (name: string) => dialect === "postgres"
    ? db.schema.createTable(name).addColumn("num", "bigserial", (c) => c.primaryKey())
    : db.schema.createTable(name).addColumn("num", "integer", (c) => c.primaryKey().autoIncrement());

  await withNum("webhooks")
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("access_key", "text", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("secret_enc", "text", (c) => c.notNull())
    /** JSON array of object kinds (`task`, `model_version`, …). */
    .addColumn("object_kinds", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("from_event_num", bigint, (c) => c.notNull())
    .addColumn("active", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("webhooks_key").on("webhooks").columns(["access_key", "num"]).execute();

  await withNum("webhook_deliveries")
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("webhook_num", bigint, (c) => c.notNull())
    .addColumn("event_num", bigint, (c) => c.notNull())
    /** pending | delivered | failed */
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("last_status_code", "integer")
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("delivered_at", "text")
    .addUniqueConstraint("webhook_deliveries_webhook_event", ["webhook_num", "event_num"])
    .execute();
  await db.schema.createIndex("webhook_deliveries_due").on("webhook_deliveries").columns(["status", "next_attempt_at"]).execute();
  await db.schema.createIndex("webhook_deliveries_webhook").on("webhook_deliveries").columns(["webhook_num", "num"]).execute();

  await db.schema.createTable("webhook_cursor")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("event_num", bigint, (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  const newest = await db.selectFrom("events").select(sql<number | string | null>`max(num)`.as("num")).executeTakeFirst();
  await db.insertInto("webhook_cursor")
    .values({ name: "events", event_num: Number(newest?.num ?? 0), updated_at: new Date().toISOString() })
    .execute();

  await db.schema.createIndex("run_metrics_run_num").on("run_metrics").columns(["run_num", "num"]).execute();
  await db.schema.createIndex("run_metrics_run_evals").on("run_metrics").columns(["run_num", "num"])
    .where(sql.ref("eval_loss"), "is not", null).execute();
}
