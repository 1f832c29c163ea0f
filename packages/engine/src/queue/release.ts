import { sql, type Kysely } from "kysely";
import { nowIso } from "@sailfin/contract";
import { appendEvent, type Database } from "@sailfin/store";
import { RUN_OBJECT, type Lease } from "./lease.js";

/**
 * Hands a run back to the queue without counting the attempt (the worker is shutting down, not
 * failing): Queued, available now; the next claim resumes from its last checkpoint. Fenced.
 *
 * @example await releaseRun(db, lease, "worker shutting down")
 */
export async function releaseRun(db: Kysely<Database>, lease: Lease, reason: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx.updateTable("runs")
      .set({ status: "Queued", available_at: nowIso(), lease_owner: null, lease_token: null, lease_expires_at: null, attempt: sql<number>`attempt - 1` })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running")
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: lease.runId, actor: lease.owner, from: "Running", to: "Queued", reason });
    return true;
  });
}
