import type { Insertable, Kysely } from "kysely";
import type { Database, EvalResultTable } from "@sailfin/store";
import type { Lease } from "./lease.js";

/** One evaluated sample as the worker hands it over (the row less its generated number). */
export type EvalResultInput = Omit<Insertable<EvalResultTable>, "num" | "eval_run_num">;

/** Rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits. */
const ROWS_PER_INSERT = 200;

/**
 * Writes an evaluation's per-sample answers (after clearing those of an earlier attempt when
 * `replace`), fenced by the lease like every write after the claim: the first statement touches
 * the run `WHERE lease_token = ?` and status Running, and when that matches no row (the lease was
 * lost to another worker) nothing is written and the result is false.
 *
 * @example if (!(await recordEvalResults(db, lease, rows))) return { kind: "lost" };
 */
export async function recordEvalResults(
  db: Kysely<Database>, lease: Lease, rows: readonly EvalResultInput[], options: { readonly replace?: boolean } = {},
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const fence = await trx.updateTable("runs").set({ lease_owner: lease.owner })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").executeTakeFirst();
    if (Number(fence.numUpdatedRows) !== 1) return false;
    if (options.replace === true) {
      await trx.deleteFrom("eval_manual_scores").where("eval_run_num", "=", lease.runNum).execute();
      await trx.deleteFrom("eval_results").where("eval_run_num", "=", lease.runNum).execute();
    }
    for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) {
      await trx.insertInto("eval_results").values(rows.slice(at, at + ROWS_PER_INSERT).map((row) => ({ ...row, eval_run_num: lease.runNum }))).execute();
    }
    return true;
  });
}
