import { type Kysely, type CreateTableBuilder, sql } from "kysely";

/**
 * Frozen in time: never import application code here. Both dialects run the same builder;
 * the only difference is how the autoincrementing `num` key is spelled.
 */
type Dialect = "sqlite" | "postgres";

function withNum<T extends string>(table: CreateTableBuilder<T, never>, dialect: Dialect) {
  return dialect === "postgres"
    ? table.addColumn("num", "bigserial", (c) => c.primaryKey())
    : table.addColumn("num", "integer", (c) => c.primaryKey().autoIncrement());
}

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bigint = dialect === "postgres" ? "bigint" : "integer";

  await withNum(db.schema.createTable("access_keys"), dialect)
    .addColumn("access_key", "text", (c) => c.notNull().unique())
    .addColumn("secret_enc", "text", (c) => c.notNull())
    .addColumn("policies", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema.createTable("access_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("access_key", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();

  await withNum(db.schema.createTable("dataset_groups"), dialect)
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("data_format", "text", (c) => c.notNull())
    .addColumn("project_type", "integer", (c) => c.notNull())
    .addColumn("template_type", "integer", (c) => c.notNull())
    .addColumn("data_type", "integer", (c) => c.notNull())
    .addColumn("storage_type", "text", (c) => c.notNull())
    .addColumn("storage_path", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("modified_at", "text", (c) => c.notNull())
    .execute();

  await withNum(db.schema.createTable("dataset_versions"), dialect)
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("group_num", bigint, (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("import_status", "integer", (c) => c.notNull())
    .addColumn("import_progress", "integer", (c) => c.notNull())
    .addColumn("release_status", "integer", (c) => c.notNull())
    .addColumn("record_count", bigint, (c) => c.notNull())
    .addColumn("char_count", bigint, (c) => c.notNull())
    .addColumn("byte_size", bigint, (c) => c.notNull())
    .addColumn("error_count", bigint, (c) => c.notNull())
    .addColumn("validation_report", "text")
    .addColumn("content_hash", "text")
    .addColumn("data_path", "text")
    .addColumn("released_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("modified_at", "text", (c) => c.notNull())
    .addUniqueConstraint("dataset_versions_group_version", ["group_num", "version"])
    .execute();

  await withNum(db.schema.createTable("dataset_imports"), dialect)
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("version_num", bigint, (c) => c.notNull())
    .addColumn("files", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .execute();
  await db.schema.createIndex("dataset_imports_version").on("dataset_imports").columns(["version_num", "num"]).execute();

  await withNum(db.schema.createTable("finetune_jobs"), dialect)
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("train_mode", "text", (c) => c.notNull())
    .addColumn("parameter_scale", "text")
    .addColumn("base_train_type", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("modified_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("finetune_jobs_model").on("finetune_jobs").columns(["model", "num"]).execute();
  await db.schema.createIndex("finetune_jobs_train_mode").on("finetune_jobs").columns(["train_mode", "num"]).execute();

  await withNum(db.schema.createTable("runs"), dialect)
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("job_num", bigint, (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("train_mode", "text", (c) => c.notNull())
    .addColumn("parameter_scale", "text", (c) => c.notNull())
    .addColumn("base_model_version_num", bigint, (c) => c.notNull())
    .addColumn("spec", "text", (c) => c.notNull())
    .addColumn("dataset_hashes", "text", (c) => c.notNull())
    .addColumn("increment_run_num", bigint)
    .addColumn("increment_step", "integer")
    .addColumn("progress", "real", (c) => c.notNull())
    .addColumn("cancel_requested", "integer", (c) => c.notNull())
    .addColumn("priority", "integer", (c) => c.notNull())
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("available_at", "text", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_token", "text")
    .addColumn("lease_expires_at", "text")
    .addColumn("failure_kind", "text")
    .addColumn("failure_reason", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .execute();
  await db.schema.createIndex("runs_job").on("runs").columns(["job_num", "num"]).execute();
  await db.schema.createIndex("runs_claim").on("runs").columns(["status", "priority", "available_at"]).execute();
  await db.schema.createIndex("runs_base_model").on("runs").columns(["base_model_version_num"]).execute();

  await withNum(db.schema.createTable("run_checkpoints"), dialect)
    .addColumn("run_num", bigint, (c) => c.notNull())
    .addColumn("step", "integer", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("train_loss", "real")
    .addColumn("eval_loss", "real")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("run_checkpoints_run_step", ["run_num", "step"])
    .execute();

  // One row per logged training step (runtime `metrics` events, batched by the worker); eval
  // loss arrives in its own event and is written onto the row of its step.
  await withNum(db.schema.createTable("run_metrics"), dialect)
    .addColumn("run_num", bigint, (c) => c.notNull())
    .addColumn("step", "integer", (c) => c.notNull())
    .addColumn("epoch", "real")
    .addColumn("loss", "real")
    .addColumn("lr", "real")
    .addColumn("grad_norm", "real")
    .addColumn("tokens_per_s", "real")
    .addColumn("eval_loss", "real")
    .addColumn("at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("run_metrics_run_step").on("run_metrics").columns(["run_num", "step"]).execute();

  await withNum(db.schema.createTable("model_sets"), dialect)
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("model_type", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("labels", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("modified_at", "text", (c) => c.notNull())
    .execute();

  await withNum(db.schema.createTable("model_versions"), dialect)
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("set_num", bigint, (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("source_type", "text", (c) => c.notNull())
    .addColumn("source_run_num", bigint)
    .addColumn("source_step", "integer")
    .addColumn("source_comp_num", bigint)
    .addColumn("import_bucket", "text")
    .addColumn("import_object", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("fail_reason", "text")
    .addColumn("architecture", "text")
    .addColumn("config_summary", "text")
    .addColumn("artifact_path", "text")
    .addColumn("size_bytes", bigint, (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("modified_at", "text", (c) => c.notNull())
    .addUniqueConstraint("model_versions_set_version", ["set_num", "version"])
    .execute();
  await db.schema.createIndex("model_versions_set").on("model_versions").columns(["set_num", "num"]).execute();

  await withNum(db.schema.createTable("events"), dialect)
    .addColumn("object_kind", "text", (c) => c.notNull())
    .addColumn("object_id", "text", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("from_state", "text")
    .addColumn("to_state", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .execute();
  await db.schema.createIndex("events_object").on("events").columns(["object_kind", "object_id", "num"]).execute();
  void sql;
}
