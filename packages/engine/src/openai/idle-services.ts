import { SYSTEM_ACTOR, type EngineResources } from "../resources.js";
import { stopService } from "../serving/manage-services.js";

/**
 * Stops services started on demand (on-demand-serving.ts) once idle: `idle_stop_s` > 0 seconds
 * since the later of their last call (`last_used_at`) and their engine's start (`ready_at`), so a
 * slow deploy is never counted as idleness. Only a Serving service is stopped: a deploying one
 * has a caller waiting for it. Each stop is an ordinary StopService (the run cancelled, its
 * worker kills the engine, the events say `system` did it); the next call starts it again.
 * Every server process sweeps; replicas racing for one service stop it once (the conditional
 * update below).
 */

/** One pass; returns the ids of the services it stopped. @example await stopIdleServices(res) */
async function stopIdleServices(res: EngineResources, now: number = Date.now()): Promise<string[]> {
  const rows = await res.db.selectFrom("services")
    .innerJoin("runs", "runs.num", "services.run_num")
    .innerJoin("service_endpoints", (join) => join.onRef("service_endpoints.run_num", "=", "runs.num").onRef("service_endpoints.attempt", "=", "runs.attempt"))
    .select(["services.num", "services.id", "services.idle_stop_s", "services.last_used_at", "service_endpoints.ready_at"])
    .where("services.idle_stop_s", ">", 0).where("services.desired", "=", "Serving").where("runs.status", "=", "Running")
    .execute();
  const stopped: string[] = [];
  for (const row of rows) {
    const since = Math.max(Date.parse(row.ready_at), row.last_used_at === null ? 0 : Date.parse(row.last_used_at));
    if (now - since < Number(row.idle_stop_s) * 1000) continue;
    // A call may have come in since the read: stop only if the use read is still the last.
    const claimed = await res.db.updateTable("services").set({ desired: "Stopped" })
      .where("num", "=", row.num).where("desired", "=", "Serving")
      .where((eb) => (row.last_used_at === null ? eb("last_used_at", "is", null) : eb("last_used_at", "=", row.last_used_at)))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue;
    await stopService(res, SYSTEM_ACTOR, Number(row.num), "serviceId");
    res.log.info({ service: row.id, idleStopS: row.idle_stop_s }, "stopped an idle on-demand service");
    stopped.push(row.id);
  }
  return stopped;
}

/**
 * The sweep loop of a server process: a pass every `sweepMs`; a failed pass (the database
 * restarting) is logged and the next one tries again.
 *
 * @example const sweeper = new IdleServiceSweeper(res, 15_000); sweeper.start(); … await sweeper.stop();
 */
export class IdleServiceSweeper {
  readonly #res: EngineResources;
  readonly #sweepMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** The pass under way, if any: a slow pass is not overlapped by the next tick. */
  #pass: Promise<void> | null = null;

  constructor(res: EngineResources, sweepMs: number) {
    this.#res = res;
    this.#sweepMs = sweepMs;
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#pass !== null) return;
      this.#pass = stopIdleServices(this.#res).then(
        () => undefined,
        (error: unknown) => this.#res.log.error({ err: error }, "sweeping idle on-demand services failed"),
      ).finally(() => { this.#pass = null; });
    }, this.#sweepMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#pass;
  }
}
