import { randomBytes } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { nowIso } from "@sailfin/contract";
import { appendEvent, type Database, type Dialect } from "@sailfin/store";
import { isoIn, RUN_OBJECT, type Lease, type RunKind } from "./lease.js";

interface ClaimOptions {
  /** Worker id, recorded as `lease_owner` and as the actor of the event. */
  readonly owner: string;
  readonly kinds: readonly RunKind[];
  readonly leaseMs: number;
  /** Only runs queued for these resource pools; undefined: any pool (a worker of SERVER_KINDS, which need no executor). */
  readonly pools?: readonly string[];
}

/**
 * Claims the next runnable run of `kinds` (and of `pools`, when given) — Queued, `available_at` passed, highest priority
 * then oldest — in ONE statement: `UPDATE runs … WHERE num = (SELECT … LIMIT 1) RETURNING *`.
 * On PostgreSQL the inner select takes `FOR UPDATE SKIP LOCKED`, so concurrent workers never
 * pick the same row nor wait on each other; on SQLite the statement runs in a write
 * transaction and SQLite's single writer serialises claims. Returns null when nothing is due.
 *
 * @example const lease = await claimRun(db, "postgres", { owner: "worker-1", kinds: ["finetune"], leaseMs: 30_000 });
 */
export async function claimRun(db: Kysely<Database>, dialect: Dialect, options: ClaimOptions): Promise<Lease | null> {
  if (options.kinds.length === 0 || options.pools?.length === 0) return null;
  const now = nowIso();
  const token = randomBytes(16).toString("hex");
  return db.transaction().execute(async (trx) => {
    let next = trx.selectFrom("runs").select("num")
      .where("status", "=", "Queued").where("available_at", "<=", now).where("kind", "in", [...options.kinds])
      .$if(options.pools !== undefined, (q) => q.where("pool_id", "in", [...options.pools!]))
      .orderBy("priority", "desc").orderBy("num", "asc").limit(1);
    if (dialect === "postgres") next = next.forUpdate().skipLocked();
    const row = await trx.updateTable("runs")
      .set({
        status: "Running", lease_owner: options.owner, lease_token: token, lease_expires_at: isoIn(options.leaseMs),
        attempt: sql<number>`attempt + 1`, started_at: sql<string>`coalesce(started_at, ${now})`, cancel_requested: 0,
      })
      .where("num", "=", next)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) return null;
    await appendEvent(trx, {
      objectKind: RUN_OBJECT, objectId: row.id, actor: options.owner, from: "Queued", to: "Running",
      reason: `claimed (attempt ${row.attempt} of ${row.max_attempts})`,
    });
    return {
      runNum: row.num, runId: row.id, kind: row.kind as RunKind, owner: options.owner, token,
      attempt: row.attempt, maxAttempts: row.max_attempts, row,
    };
  });
}
