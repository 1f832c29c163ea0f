import type { Kysely } from "kysely";
import type { Database } from "@sailfin/store";
import { isoIn, type Lease } from "./lease.js";

interface HeartbeatResult {
  /** False when the lease was lost (expired and requeued, or taken by another worker). */
  readonly alive: boolean;
  /** True when someone asked to stop the run (StopFineTuningTask / stopJob). */
  readonly cancelRequested: boolean;
  /** True when someone asked to pause the run (pauseRun): the worker stops it as a drain does and records Paused. */
  readonly pauseRequested: boolean;
}

/**
 * Extends the lease by `leaseMs` (fenced by the token) and reports whether a stop or a pause was asked.
 *
 * @example const beat = await heartbeat(db, lease, 30_000); if (!beat.alive) abort();
 */
export async function heartbeat(db: Kysely<Database>, lease: Lease, leaseMs: number): Promise<HeartbeatResult> {
  const row = await db.updateTable("runs").set({ lease_expires_at: isoIn(leaseMs) })
    .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running")
    .returning(["cancel_requested", "pause_requested"]).executeTakeFirst();
  if (row === undefined) return { alive: false, cancelRequested: false, pauseRequested: false };
  return { alive: true, cancelRequested: Number(row.cancel_requested) !== 0, pauseRequested: Number(row.pause_requested) !== 0 };
}
