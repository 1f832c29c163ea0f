import { sql, type Kysely } from "kysely";
import { nowIso } from "@sailfin/contract";
import { appendEvent, type Database } from "@sailfin/store";
import { RUN_OBJECT } from "./lease.js";
import type { OnRunEnded } from "./run-ending.js";
import { handBackReason } from "./pause-leased.js";

interface RequeuedRun {
  readonly id: string;
  readonly to: string;
  readonly previousOwner: string | null;
}

/**
 * Returns every Running run whose lease expired (its worker crashed, was killed or lost the
 * database) to the queue, in one statement: Queued (available now; the next claim resumes from
 * its last checkpoint), or Cancelled when a stop had been asked, or Failed when it has used all
 * its attempts, or Paused when a pause had been asked (the pause outlives the worker); a run that ended is settled by `onEnded` in the same transaction. Any worker may
 * call this; it is idempotent.
 *
 * @example await requeueExpired(db, "worker-2", { onEnded: settleEndedRun })
 */
export async function requeueExpired(db: Kysely<Database>, actor: string, options: { readonly onEnded: OnRunEnded }): Promise<RequeuedRun[]> {
  const now = nowIso();
  return db.transaction().execute(async (trx) => {
    const expired = await trx.selectFrom("runs").select(["num", "lease_owner"])
      .where("status", "=", "Running").where("lease_expires_at", "<", now).execute();
    if (expired.length === 0) return [];
    const owners = new Map(expired.map((r) => [r.num, r.lease_owner]));
    const rows = await trx.updateTable("runs")
      .set({
        status: sql<string>`case when cancel_requested <> 0 then 'Cancelled' when attempt >= max_attempts then 'Failed' when pause_requested <> 0 then 'Paused' else 'Queued' end`,
        pause_requested: 0,
        finished_at: sql<string | null>`case when cancel_requested <> 0 or attempt >= max_attempts then ${now} else null end`,
        failure_kind: sql<string | null>`case when cancel_requested <> 0 then failure_kind else 'system' end`,
        failure_reason: sql<string | null>`case when cancel_requested <> 0 then failure_reason else ${`the worker holding the task stopped heartbeating (lease expired at ${now})`} end`,
        available_at: now, lease_owner: null, lease_token: null, lease_expires_at: null,
      })
      // Re-checked here: a heartbeat may have landed between the select and this update.
      .where("num", "in", expired.map((r) => r.num)).where("status", "=", "Running").where("lease_expires_at", "<", now)
      .returning(["num", "id", "kind", "spec", "status", "failure_reason"]).execute();
    const out: RequeuedRun[] = [];
    for (const row of rows) {
      const previousOwner = owners.get(row.num) ?? null;
      const expiry = `lease of ${previousOwner ?? "an unknown worker"} expired`;
      await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: row.id, actor, from: "Running", to: row.status, reason: await handBackReason(trx, row.num, row.status, expiry) });
      if (row.status === "Failed" || row.status === "Cancelled") {
        await options.onEnded(trx, row, {
          status: row.status, reason: row.status === "Failed" ? (row.failure_reason ?? expiry) : `stopped: the ${expiry}`,
        });
      }
      out.push({ id: row.id, to: row.status, previousOwner });
    }
    return out;
  });
}
