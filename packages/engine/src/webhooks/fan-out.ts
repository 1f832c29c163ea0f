import { WEBHOOK_READ_ACTION, newId, nowIso, policiesAllow, type WebhookObjectKind } from "@sailfin/contract";
import type { Dialect } from "@sailfin/store";
import type { EngineResources } from "../resources.js";
import { lockRows } from "../row-lock.js";
import { parsePolicyList, webhookKindOf } from "./webhook-events.js";

interface FanOutOptions {
  /** Events read per call. */
  readonly batch: number;
  /** PostgreSQL only: how long a hole in the event numbers is waited for (see below). */
  readonly gapGraceMs: number;
  readonly now?: number;
}

interface FanOutResult {
  /** Events the cursor moved past. */
  readonly events: number;
  readonly deliveries: number;
  /** A full batch was read: call again at once. */
  readonly more: boolean;
}

const CURSOR = "events";

/**
 * Turns new `events` rows into `webhook_deliveries` rows, one per (webhook, event) that the
 * webhook follows and its key may read, and moves the stored cursor past them, all in one
 * transaction; a restart resumes at the cursor. Replicas serialize on the cursor row (`FOR
 * UPDATE` on PostgreSQL; SQLite has one writer), and the unique (webhook, event) pair makes a
 * repeated fan-out harmless anyway.
 *
 * Holes: on PostgreSQL an event number is taken when the row is inserted but becomes visible at
 * commit, so a later number can be seen first. The cursor stops before a hole until the event
 * after it is `gapGraceMs` old; a hole older than that is a rolled-back transaction (or one that
 * appended an event and then ran that long, which none does) and is passed. SQLite commits one
 * writer at a time, in number order: there are no holes to wait for.
 *
 * @example await fanOutEvents(res, { batch: 500, gapGraceMs: 10_000 })
 */
export async function fanOutEvents(res: EngineResources, options: FanOutOptions): Promise<FanOutResult> {
  const now = options.now ?? Date.now();
  return res.db.transaction().execute(async (trx) => {
    const cursor = await lockRows(trx.selectFrom("webhook_cursor").select("event_num").where("name", "=", CURSOR), res.dialect, "update")
      .executeTakeFirstOrThrow();
    const after = Number(cursor.event_num);
    const rows = await trx.selectFrom("events").select(["num", "object_kind", "object_id", "to_state", "at"])
      .where("num", ">", after).orderBy("num", "asc").limit(options.batch).execute();
    const ready = settled(rows, after, res.dialect, now - options.gapGraceMs);
    const last = ready.at(-1);
    if (last === undefined) return { events: 0, deliveries: 0, more: false };

    const hooks = await trx.selectFrom("webhooks").select(["num", "access_key", "object_kinds", "from_event_num"])
      .where("active", "=", 1).execute();
    const keys = hooks.length === 0 ? [] : await trx.selectFrom("access_keys").select(["access_key", "policies"])
      .where("access_key", "in", [...new Set(hooks.map((h) => h.access_key))]).execute();
    const policies = new Map(keys.map((k) => [k.access_key, parsePolicyList(k.policies)]));

    const at = nowIso();
    const deliveries: Array<{ webhook_num: number; event_num: number }> = [];
    for (const event of ready) {
      const kind = webhookKindOf(event.object_kind, event.object_id, event.to_state);
      if (kind === null) continue;
      for (const hook of hooks) {
        if (Number(event.num) <= Number(hook.from_event_num)) continue;
        if (!(JSON.parse(hook.object_kinds) as WebhookObjectKind[]).includes(kind)) continue;
        const granted = policies.get(hook.access_key);
        if (granted === undefined || !policiesAllow(granted, WEBHOOK_READ_ACTION[kind])) continue;
        deliveries.push({ webhook_num: Number(hook.num), event_num: Number(event.num) });
      }
    }
    for (let i = 0; i < deliveries.length; i += 200) {
      await trx.insertInto("webhook_deliveries").values(deliveries.slice(i, i + 200).map((d) => ({
        id: newId("webhookDelivery"), webhook_num: d.webhook_num, event_num: d.event_num, status: "pending", attempts: 0,
        next_attempt_at: at, last_status_code: null, last_error: null, created_at: at, delivered_at: null,
      }))).onConflict((oc) => oc.columns(["webhook_num", "event_num"]).doNothing()).execute();
    }
    // A webhook whose key was deleted would never be delivered again: say so in its listing.
    const orphans = hooks.filter((h) => !policies.has(h.access_key)).map((h) => Number(h.num));
    if (orphans.length > 0) await trx.updateTable("webhooks").set({ active: 0 }).where("num", "in", orphans).execute();
    await trx.updateTable("webhook_cursor").set({ event_num: Number(last.num), updated_at: at }).where("name", "=", CURSOR).execute();
    return { events: ready.length, deliveries: deliveries.length, more: rows.length === options.batch && ready.length === rows.length };
  });
}

/** The prefix of `rows` the cursor may pass (see the holes note above). */
function settled<T extends { num: number; at: string }>(rows: T[], after: number, dialect: Dialect, settledBefore: number): T[] {
  if (dialect !== "postgres") return rows;
  let expect = after + 1;
  const out: T[] = [];
  for (const row of rows) {
    if (Number(row.num) !== expect && Date.parse(row.at) > settledBefore) break;
    out.push(row);
    expect = Number(row.num) + 1;
  }
  return out;
}
