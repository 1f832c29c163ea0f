import { nowIso } from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import type { ServiceRecord } from "./records.js";

/**
 * The last use of a service started on demand (`idle_stop_s` set), which the idle sweeper
 * (openai/idle-services.ts) measures from. Written at most once per USE_WRITE_EVERY_MS per
 * service (a quarter of its idle limit when that is shorter): a busy service costs one small
 * write every few seconds, not one per call, and the idle limit is never missed by more than
 * that.
 */
const USE_WRITE_EVERY_MS = 5_000;

/**
 * Records a chat call to `service` when it is an on-demand one whose recorded use is older than
 * that interval (the record's copy decides; the update re-checks, so replicas racing write once).
 *
 * @example await noteServiceUse(res, target.service);
 */
export async function noteServiceUse(res: EngineResources, service: Pick<ServiceRecord, "num" | "idleStopS" | "lastUsedAt">): Promise<void> {
  if (service.idleStopS === null) return;
  const now = Date.now();
  const every = service.idleStopS === 0 ? USE_WRITE_EVERY_MS : Math.min(USE_WRITE_EVERY_MS, service.idleStopS * 250);
  if (service.lastUsedAt !== null && Date.parse(service.lastUsedAt) > now - every) return;
  const stale = new Date(now - every).toISOString();
  await res.db.updateTable("services").set({ last_used_at: nowIso() }).where("num", "=", service.num)
    .where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<=", stale)])).execute();
}
