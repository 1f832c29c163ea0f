import type { Kysely } from "kysely";

/**
 * Inference services, bearer tokens and API keys (issue 15). Frozen in time: never import
 * application code here.
 *
 * - `services`: one deployed model version (V2 `svco-…`, V1 its `num`). `url_suffix` is the V1
 *   endpoint and the V2 chat `model` (unique). `run_num` is the `serve` run that serves it now
 *   (the scheduler places it like any run; a stop cancels it, a start queues a new one); null
 *   before the first run was queued. `desired` is what the owner last asked for (`Serving` or
 *   `Stopped`): the describe routes derive `runStatus` from it and the run's state.
 * - `service_endpoints`: where a serving run's engine answers, written (fenced by the lease) when
 *   its engine is up and healthy, for the attempt that started it: a row of an older attempt is
 *   stale (the run was requeued to another worker). `api_key_enc` is the engine's own bearer
 *   secret, sealed like access-key secrets.
 * - `bearer_tokens`: `bce-v3/ALTAK-…/<secret>` tokens of `GET /v1/BCE-BEARER/token` (kind
 *   `bearer`, with an expiry) and long-lived API keys (kind `api-key`), each acting as the access
 *   key that made it. Only a SHA-256 of the whole token is stored: a token is never shown twice.
 * - `runs.service_num`: the service a `serve` or `batch-inference` run belongs to (null otherwise).
 */
type Dialect = "sqlite" | "postgres";

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bigint = dialect === "postgres" ? "bigint" : "integer";
  const withNum = (name: string) => dialect === "postgres"
    ? db.schema.createTable(name).addColumn("num", "bigserial", (c) => c.primaryKey())
    : db.schema.createTable(name).addColumn("num", "integer", (c) => c.primaryKey().autoIncrement());

  await withNum("services")
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("url_suffix", "text", (c) => c.notNull().unique())
    .addColumn("service_type", "text", (c) => c.notNull())
    .addColumn("model_set_num", bigint, (c) => c.notNull())
    .addColumn("model_version_num", bigint, (c) => c.notNull())
    /** JSON: the request's `resourceConfig` (echoed), with the pool it resolved to. */
    .addColumn("resource_config", "text", (c) => c.notNull())
    .addColumn("pool_id", "text", (c) => c.notNull())
    .addColumn("run_num", bigint)
    .addColumn("desired", "text", (c) => c.notNull())
    .addColumn("creator", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("modified_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("services_model_version").on("services").columns(["model_version_num", "num"]).execute();

  await db.schema.createTable("service_endpoints")
    .addColumn("run_num", bigint, (c) => c.primaryKey())
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("api_key_enc", "text")
    .addColumn("served_model_name", "text", (c) => c.notNull())
    /** `sailfin` (the runtime's server) or the operator engine's name (`vllm`, `sglang` …). */
    .addColumn("engine", "text", (c) => c.notNull())
    .addColumn("ready_at", "text", (c) => c.notNull())
    .execute();

  await withNum("bearer_tokens")
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("access_key", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .execute();
  await db.schema.createIndex("bearer_tokens_key").on("bearer_tokens").columns(["access_key", "num"]).execute();

  await db.schema.alterTable("runs").addColumn("service_num", bigint).execute();
  await db.schema.createIndex("runs_service").on("runs").columns(["service_num", "num"]).execute();
}
