import { type Kysely } from "kysely";

/**
 * Compression, evaluation and result export (issue 4). Frozen in time: never import application
 * code here.
 *
 * They are rows in `runs` like fine-tuning and publishing (one queue, one lease protocol); `name`
 * is their user-given name and `result` their JSON outcome (sizes and perplexities, the
 * evaluation report, the export's file). Per-sample evaluation results get their own table:
 * they are listed, filtered and exported row by row.
 */
type Dialect = "sqlite" | "postgres";

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bigint = dialect === "postgres" ? "bigint" : "integer";

  await db.schema.alterTable("runs").addColumn("name", "text", (c) => c.notNull().defaultTo("")).execute();
  await db.schema.alterTable("runs").addColumn("result", "text").execute();
  await db.schema.createIndex("runs_kind").on("runs").columns(["kind", "num"]).execute();

  const results = dialect === "postgres"
    ? db.schema.createTable("eval_results").addColumn("num", "bigserial", (c) => c.primaryKey())
    : db.schema.createTable("eval_results").addColumn("num", "integer", (c) => c.primaryKey().autoIncrement());
  await results
    .addColumn("eval_run_num", bigint, (c) => c.notNull())
    .addColumn("unit_index", "integer", (c) => c.notNull())
    .addColumn("model_version_num", bigint, (c) => c.notNull())
    .addColumn("sample_index", "integer", (c) => c.notNull())
    .addColumn("prompt", "text", (c) => c.notNull())
    .addColumn("prediction", "text", (c) => c.notNull())
    .addColumn("reference", "text", (c) => c.notNull())
    .addColumn("finish_reason", "text", (c) => c.notNull())
    /** JSON: the rule metrics of this sample (bleu4, rouge_1, rouge_2, rouge_l, accuracy, f1Score). */
    .addColumn("metrics", "text", (c) => c.notNull())
    .addColumn("judge_score", "real")
    .addColumn("judge_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("eval_results_run").on("eval_results").columns(["eval_run_num", "num"]).execute();
  await db.schema.createIndex("eval_results_sample").on("eval_results")
    .columns(["eval_run_num", "unit_index", "sample_index"]).unique().execute();
}
