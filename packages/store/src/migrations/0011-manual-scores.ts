import { type Kysely } from "kysely";

/**
 * Manual evaluation (issue 15): the scores people give each answer of an evaluation, one row per
 * (answer, dimension). Frozen in time: never import application code here.
 *
 * A row per score, not a JSON column on `eval_results`: a unique (result, dimension) index makes
 * a second score of the same answer a constraint failure even when two scorers race, and
 * "how many are scored" is one COUNT.
 */
type Dialect = "sqlite" | "postgres";

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bigint = dialect === "postgres" ? "bigint" : "integer";
  const table = dialect === "postgres"
    ? db.schema.createTable("eval_manual_scores").addColumn("num", "bigserial", (c) => c.primaryKey())
    : db.schema.createTable("eval_manual_scores").addColumn("num", "integer", (c) => c.primaryKey().autoIncrement());
  await table
    .addColumn("eval_run_num", bigint, (c) => c.notNull())
    .addColumn("result_num", bigint, (c) => c.notNull())
    .addColumn("dimension", "text", (c) => c.notNull())
    .addColumn("score", "real", (c) => c.notNull())
    .addColumn("scorer", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("eval_manual_scores_answer").on("eval_manual_scores").columns(["result_num", "dimension"]).unique().execute();
  await db.schema.createIndex("eval_manual_scores_run").on("eval_manual_scores").columns(["eval_run_num", "num"]).execute();
}
