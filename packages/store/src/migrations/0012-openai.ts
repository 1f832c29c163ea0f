import type { Kysely } from "kysely";

/**
 * OpenAI's fine-tuning dialect (issue 16) over the same store. Frozen in time: never import
 * application code here.
 *
 * - `openai_files`: `POST /v1/files` uploads (`file-…`). The raw bytes stay at `object_key` for
 *   `/content`. A `fine-tune` file that validated is also a Released dataset version
 *   (`dataset_version_num`, the same data seen by V1/V2); `data_kind` says which OpenAI format it
 *   holds (`chat` or `preference`). Result files of a job (`fine-tune-results`) live here too.
 * - `openai_jobs`: a fine-tuning job created through OpenAI's dialect (`ftjob-…`). It is a V2 job
 *   (`job_num`) with one task (`run_num`): this row keeps only what OpenAI's shape has and V2's
 *   has not (the names the caller used, suffix, seed, metadata, integrations, the method as asked
 *   and as resolved). `fine_tuned_model` (`ft:<base>:<org>:<suffix>:<model_key>`) is fixed at
 *   creation (unique) and answers once `model_version_num`, the version published from the task,
 *   is Ready. `result_file_num`: the metrics CSV written when the job ends.
 * - `runs.pause_requested`: a caller asked to pause a Running run (the worker stops it at a
 *   checkpoint and records Paused; status `Paused` is a run status like the others).
 * - `services.idle_stop_s` / `last_used_at`: a service started on demand (an `ft:` model called
 *   through `/v1/chat/completions`) stops after `idle_stop_s` seconds without a call.
 */
type Dialect = "sqlite" | "postgres";

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bigint = dialect === "postgres" ? "bigint" : "integer";
  const withNum = (name: string) => dialect === "postgres"
    ? db.schema.createTable(name).addColumn("num", "bigserial", (c) => c.primaryKey())
    : db.schema.createTable(name).addColumn("num", "integer", (c) => c.primaryKey().autoIncrement());

  await withNum("openai_files")
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("filename", "text", (c) => c.notNull())
    .addColumn("bytes", bigint, (c) => c.notNull())
    /** `uploaded`, `processed` or `error` (OpenAI's words). */
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("status_details", "text")
    .addColumn("object_key", "text", (c) => c.notNull())
    .addColumn("data_kind", "text")
    .addColumn("line_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("dataset_version_num", bigint)
    .addColumn("creator", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .execute();
  await db.schema.createIndex("openai_files_purpose").on("openai_files").columns(["purpose", "num"]).execute();

  await withNum("openai_jobs")
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("job_num", bigint, (c) => c.notNull())
    .addColumn("run_num", bigint, (c) => c.notNull().unique())
    /** The `model` the caller named (a base model name, or an `ft:` model it continues). */
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("training_file_num", bigint, (c) => c.notNull())
    .addColumn("validation_file_num", bigint)
    /** JSON: `method` with every `auto` resolved to the number used. */
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("suffix", "text")
    .addColumn("seed", bigint, (c) => c.notNull())
    /** JSON object or null. */
    .addColumn("metadata", "text")
    /** JSON array, echoed. */
    .addColumn("integrations", "text", (c) => c.notNull())
    .addColumn("organization", "text", (c) => c.notNull())
    .addColumn("model_key", "text", (c) => c.notNull().unique())
    .addColumn("fine_tuned_model", "text", (c) => c.notNull().unique())
    .addColumn("model_version_num", bigint)
    .addColumn("result_file_num", bigint)
    .addColumn("creator", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema.alterTable("runs").addColumn("pause_requested", "integer", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("services").addColumn("idle_stop_s", "integer").execute();
  await db.schema.alterTable("services").addColumn("last_used_at", "text").execute();
}
