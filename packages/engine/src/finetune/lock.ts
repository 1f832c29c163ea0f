import type { Transaction } from "kysely";
import type { Database, Dialect } from "@sailfin/store";

/**
 * Locks a job row for the rest of the transaction, so creating a run and deleting its job
 * serialize (PostgreSQL `FOR UPDATE`; SQLite transactions already run one at a time).
 * Returns false when the job no longer exists.
 */
export async function lockJob(trx: Transaction<Database>, dialect: Dialect, jobNum: number): Promise<boolean> {
  let query = trx.selectFrom("finetune_jobs").select("num").where("num", "=", jobNum);
  if (dialect === "postgres") query = query.forUpdate();
  return (await query.executeTakeFirst()) !== undefined;
}
