import { sql, type Kysely } from "kysely";
import { nowIso } from "@sailfin/contract";
import { appendEvent, type Database } from "@sailfin/store";
import { RUN_OBJECT, type Lease } from "./lease.js";
import { QUEUED_OR_PAUSED, handBackReason } from "./pause-leased.js";

/**
 * Hands a run back to the queue without counting the attempt (the worker is shutting down, not
 * failing): Queued, available now; the next claim resumes from its last checkpoint (Paused instead
 * when a pause was asked meanwhile). Fenced.
 *
 * @example await releaseRun(db, lease, "worker shutting down")
 */
export async function releaseRun(db: Kysely<Database>, lease: Lease, reason: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.updateTable("runs")
      .set({
        status: QUEUED_OR_PAUSED, pause_requested: 0, available_at: nowIso(),
        lease_owner: null, lease_token: null, lease_expires_at: null, attempt: sql<number>`attempt - 1`,
      })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running")
      .returning(["status"]).executeTakeFirst();
    if (row === undefined) return false;
    await appendEvent(trx, {
      objectKind: RUN_OBJECT, objectId: lease.runId, actor: lease.owner, from: "Running", to: row.status,
      reason: await handBackReason(trx, lease.runNum, row.status, reason),
    });
    return true;
  });
}
