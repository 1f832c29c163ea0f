import { hostname } from "node:os";
import type { Kysely } from "kysely";
import { nowIso } from "@sailfin/contract";
import type { Database } from "@sailfin/store";
import { RUN_CATALOG, SERVER_KINDS, isRunKind } from "../runs/catalog.js";
import { isoIn, type RunKind } from "./lease.js";

/**
 * Which workers are alive, and what they run: the `workers` rows (migration 0005). Each worker
 * process announces itself at start and at every presence heartbeat (an upsert that pushes
 * `expires_at` forward), and withdraws on a clean shutdown; a killed worker's row simply expires.
 * Readers only ever count rows whose `expires_at` is still ahead, so liveness holds across
 * processes and replicas without any clock but the database rows' own.
 */

/** `waitingReason` when no live worker exists at all (also the documented example). */
const NO_WORKER_ONLINE = "no worker online";

interface WorkerAnnouncement {
  readonly id: string;
  readonly kinds: readonly RunKind[];
  /** The resource pools it claims from; undefined: any pool. */
  readonly pools?: readonly string[];
  /** How long the row counts as alive without another announcement. */
  readonly ttlMs: number;
}

/**
 * Writes (or refreshes) the worker's row, alive for `ttlMs` more, and deletes rows that expired
 * (workers that died without withdrawing). Called at start and at each presence heartbeat.
 *
 * @example await announceWorker(db, { id: "host-1-ab12cd", kinds: ["finetune"], ttlMs: 30_000 });
 */
export async function announceWorker(db: Kysely<Database>, worker: WorkerAnnouncement): Promise<void> {
  const now = nowIso();
  const expires = isoIn(worker.ttlMs);
  const pools = worker.pools?.join(",") ?? "";
  await db.deleteFrom("workers").where("expires_at", "<", now).execute();
  await db.insertInto("workers")
    .values({
      id: worker.id, kinds: worker.kinds.join(","), host: hostname(), pid: process.pid,
      started_at: now, heartbeat_at: now, expires_at: expires, pools,
    })
    .onConflict((oc) => oc.column("id").doUpdateSet({ kinds: worker.kinds.join(","), heartbeat_at: now, expires_at: expires, pools }))
    .execute();
}

/** Deletes the worker's row (a clean shutdown: it takes no more work from now on). */
export async function withdrawWorker(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom("workers").where("id", "=", id).execute();
}

/** A live worker's kinds, and its pools (null: any pool). */
interface LiveWorker {
  readonly kinds: ReadonlySet<string>;
  readonly pools: ReadonlySet<string> | null;
}

/** The kinds and pools of each live worker (one small query over the few live rows). */
async function liveWorkers(db: Kysely<Database>): Promise<readonly LiveWorker[]> {
  const rows = await db.selectFrom("workers").select(["kinds", "pools"]).where("expires_at", ">", nowIso()).execute();
  return rows.map((r) => ({ kinds: new Set(r.kinds.split(",")), pools: r.pools === "" ? null : new Set(r.pools.split(",")) }));
}

/**
 * Why a queued run of `kind` in `pool` cannot start, given the live workers; null when some
 * worker can take it. Without `pool` any worker of the kind will do.
 */
function reasonNoWorkerFor(kind: string, pool: string | undefined, live: readonly LiveWorker[]): string | null {
  if (live.length === 0) return NO_WORKER_ONLINE;
  const takers = live.filter((w) => w.kinds.has(kind));
  if (takers.length === 0) {
    const runs = [...new Set(live.flatMap((w) => [...w.kinds]))].map(kindNoun);
    return `no online worker runs ${kindNoun(kind)} tasks (${live.length} online, running ${runs.join(", ")})`;
  }
  if (pool === undefined || takers.some((w) => w.pools === null || w.pools.has(pool))) return null;
  const served = [...new Set(takers.flatMap((w) => [...(w.pools ?? [])]))];
  return `no online worker serves resource pool ${pool} (${takers.length} online for ${kindNoun(kind)} tasks, serving ${served.join(", ")})`;
}

/**
 * Why a run is still waiting for a worker, or null: only a `Queued` run can be waiting, and only
 * when no live worker takes its kind (from its resource pool, when given). A run that merely waits its turn behind others, or for its
 * retry backoff, has no reason: some worker will take it. One query, for describe routes only
 * (lists do not pay it).
 *
 * @example const reason = await waitingReason(db, { status: "Queued", kind: "finetune" }); // "no worker online"
 */
export async function waitingReason(
  db: Kysely<Database>, run: { readonly status: string; readonly kind: string; readonly poolId?: string },
): Promise<string | null> {
  if (run.status !== "Queued") return null;
  return reasonNoWorkerFor(run.kind, run.poolId, await liveWorkers(db));
}

export interface StrandedWork {
  readonly kind: string;
  readonly poolId: string;
  readonly count: number;
  readonly reason: string;
}

/**
 * Queued runs, per kind and resource pool, that no live worker takes: what `sailfin serve` warns
 * about. Two small queries (queued counts grouped by kind and pool, live workers).
 *
 * @example for (const s of await strandedWork(db)) console.error(`${s.count} ${s.kind}: ${s.reason}`);
 */
export async function strandedWork(db: Kysely<Database>): Promise<StrandedWork[]> {
  const queued = await db.selectFrom("runs").select(["kind", "pool_id", (eb) => eb.fn.countAll<number>().as("n")])
    // SERVER_KINDS are run by every serving process: never stranded while one answers.
    .where("status", "=", "Queued").where("kind", "not in", [...SERVER_KINDS]).groupBy(["kind", "pool_id"]).execute();
  if (queued.length === 0) return [];
  const live = await liveWorkers(db);
  const out: StrandedWork[] = [];
  for (const row of queued) {
    const reason = reasonNoWorkerFor(row.kind, row.pool_id, live);
    if (reason !== null) out.push({ kind: row.kind, poolId: row.pool_id, count: Number(row.n), reason });
  }
  return out;
}

/** The noun of a kind in messages (`fine-tuning`, `compression` …). */
export function kindNoun(kind: string): string {
  return isRunKind(kind) ? RUN_CATALOG[kind].noun : kind;
}
