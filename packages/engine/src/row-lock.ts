import type { Dialect } from "@sailfin/store";

/** `update`: the row is about to change or go (deletes). `share`: the row must stay as read (a new dependant). */
export type RowLockMode = "update" | "share";

/**
 * Makes a SELECT inside a transaction lock the rows it reads until the transaction ends, so a
 * writer that checks "nothing depends on this row" before deleting it and a writer that adds
 * a dependant serialize on that row instead of both passing their checks (create-run against
 * the model and dataset deletes). PostgreSQL: `FOR UPDATE` / `FOR SHARE` (shares do not wait
 * for each other, so creates on one base model run side by side). SQLite has no row locks and
 * needs none: its transactions already run one at a time (one connection, one writer).
 *
 * @example const rows = await lockRows(trx.selectFrom("model_versions").selectAll().where("num", "in", nums), res.dialect, "update").execute();
 */
export function lockRows<Q extends { forUpdate(): Q; forShare(): Q }>(query: Q, dialect: Dialect, mode: RowLockMode): Q {
  if (dialect !== "postgres") return query;
  return mode === "update" ? query.forUpdate() : query.forShare();
}
