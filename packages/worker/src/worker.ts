import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import {
  CONCURRENCY_CLASSES, RUN_CATALOG, announceWorker, withdrawWorker, cancelRun, claimRun, completeRun, failRun, heartbeat, kindsByClass,
  pauseLeasedRun, productionRunDeps, releaseRun, requeueExpired, requeueRun, settleEndedRun,
  type ConcurrencyClass, type EngineLaunch, type EngineProcess, type EngineResources, type Executor, type Lease, type RunKind, type RunOutcome, type RuntimeSettings,
} from "@sailfin/engine";

/** A resource pool a worker serves, and the executor its runs' jobs go to. */
export interface WorkerPool {
  readonly id: string;
  /** Needed when a kind the worker takes needs the runtime (RUN_CATALOG's needsRuntime). */
  readonly executor?: Executor;
  /** Training slots for this pool (default: `slots.training`, else 1). */
  readonly trainingSlots?: number;
}

interface WorkerOptions {
  readonly res: EngineResources;
  /**
   * The pools it serves: slots per pool × concurrency class, each claiming only its pool's runs
   * and running them through its pool's executor. Left out: one set of slots that claims runs of
   * any pool through `executor` (a worker of SERVER_KINDS, which need no executor; tests).
   */
  readonly pools?: readonly WorkerPool[];
  /** Where runtime jobs run when `pools` is left out. */
  readonly executor?: Executor;
  /** Default `<hostname>-<pid>-<random>`. */
  readonly id?: string;
  /** Runs at once per concurrency class (default 1 each); short file work runs beside training and evaluations. */
  readonly slots?: Partial<Record<ConcurrencyClass, number>>;
  /** Device and precision the runtime specs carry (default `auto` both). */
  readonly runtime?: RuntimeSettings;
  /** Lease length (default 30 s); heartbeats come every third of it. */
  readonly leaseMs?: number;
  /** How often an idle slot looks for work (default 1 s). */
  readonly pollMs?: number;
  /** First retry delay of a system failure (default 5 s, doubling). */
  readonly backoffMs?: number;
  /** Only these kinds (default all): slots that take none of them are left out. */
  readonly kinds?: readonly RunKind[];
  /** How serving engines start and where they bind (serve runs); left out, a serve run fails naming it. */
  readonly engines?: { readonly host: string; launch(launch: EngineLaunch): EngineProcess };
}

type StopReason = "cancel" | "pause" | "lost" | "shutdown";

/** One claiming loop: the kinds it takes, the pool it claims from (undefined: any), and that pool's executor. */
interface Slot {
  readonly kinds: readonly RunKind[];
  readonly pool: string | undefined;
  readonly executor: Executor | undefined;
}

const AUTO_RUNTIME: RuntimeSettings = { device: "auto", precision: "auto" };

/**
 * A worker: slots that claim runs from the queue, hand each to its kind in RUN_CATALOG (through
 * the production RunDeps), heartbeat their leases, stop them when asked, and record the outcome —
 * every write fenced by the lease. `stop()` drains: no new claims; running processes get SIGTERM
 * (the runtime saves a checkpoint) and their runs go back to the queue for another worker to resume.
 * A paused run (pauseRun) is stopped the same way and recorded Paused, its slot free for other work.
 *
 * @example const worker = new Worker({ res, executor: new LocalExecutor({ python: await findPython() }) }); await worker.start(); … await worker.stop();
 */
export class Worker {
  readonly id: string;
  private slotKinds: readonly RunKind[] = [];
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly running = new Map<string, AbortController>();
  private loops: Promise<void>[] = [];
  private stopping = false;
  private wake: Array<() => void> = [];
  private stopWaking: (() => void) | null = null;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1_000;
  }

  /**
   * Announces the worker in the `workers` table (so describe routes know someone takes its
   * kinds) and starts the slots; resolves once announced. A failed announcement is logged and
   * retried at the next presence heartbeat: the slots run regardless. Throws when a kind it
   * takes needs the runtime and it has no executor.
   */
  async start(): Promise<void> {
    const byClass = kindsByClass(this.options.kinds);
    const pools: readonly WorkerPool[] = this.options.pools ?? [{ id: "", ...(this.options.executor === undefined ? {} : { executor: this.options.executor }) }];
    const slots: Slot[] = [];
    for (const pool of pools) {
      for (const concurrency of CONCURRENCY_CLASSES) {
        const kinds = byClass[concurrency];
        const count = concurrency === "training" && pool.trainingSlots !== undefined ? pool.trainingSlots : (this.options.slots?.[concurrency] ?? 1);
        for (let i = 0; i < count && kinds.length > 0; i++) {
          slots.push({ kinds, pool: this.options.pools === undefined ? undefined : pool.id, executor: pool.executor });
        }
      }
      const needing = [...new Set(Object.values(byClass).flat())].filter((kind) => RUN_CATALOG[kind].needsRuntime);
      if (pool.executor === undefined && needing.length > 0) {
        throw new Error(`the worker takes ${needing.join(", ")}, which need the runtime: give ${pool.id === "" ? "it" : `pool ${pool.id}`} an executor`);
      }
    }
    this.slotKinds = [...new Set(slots.flatMap((slot) => slot.kinds))];
    // A run queued by this process is claimed at once, not at the next poll.
    this.stopWaking = this.options.res.background.onQueued((kind) => {
      if (this.slotKinds.includes(kind)) for (const wake of this.wake.splice(0)) wake();
    });
    const announced = this.announce();
    this.loops = [...slots.map((slot) => this.slot(slot)), this.presence(announced)];
    await announced;
  }

  /** The run kinds this worker's slots take (known once `start` was called). */
  get kinds(): readonly RunKind[] {
    return this.slotKinds;
  }

  /**
   * Withdraws the announcement (it takes no new work), drains, and waits for every slot to finish
   * its current run. Withdrawn again at the end: a presence heartbeat in flight during the first
   * withdrawal may have written the row back.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopWaking?.();
    const withdraw = () => withdrawWorker(this.options.res.db, this.id)
      .catch((error: unknown) => this.options.res.log.warn({ err: error, worker: this.id }, "withdrawing the worker failed"));
    for (const controller of this.running.values()) controller.abort("shutdown");
    for (const wake of this.wake.splice(0)) wake();
    await withdraw();
    await Promise.all(this.loops);
    await withdraw();
  }

  /**
   * Announces the kinds it takes less SERVER_KINDS (every serving process runs those), so a
   * worker that takes only those (a server's own) is not announced.
   */
  private async announce(): Promise<void> {
    const { res } = this.options;
    const kinds = this.slotKinds.filter((kind) => !RUN_CATALOG[kind].everyServer);
    if (kinds.length === 0) return;
    try {
      await announceWorker(res.db, {
        id: this.id, kinds, ttlMs: this.leaseMs, ...(this.options.pools === undefined ? {} : { pools: this.options.pools.map((p) => p.id) }),
      });
    } catch (error) {
      res.log.warn({ err: error, worker: this.id }, "announcing the worker failed");
    }
  }

  /** Presence heartbeats: the row stays alive while this process does (a killed worker's row expires after one lease). */
  private async presence(first: Promise<void>): Promise<void> {
    await first;
    const every = Math.max(100, Math.min(10_000, Math.floor(this.leaseMs / 3)));
    while (!this.stopping) {
      await this.sleep(every);
      if (!this.stopping) await this.announce();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() { clearTimeout(timer); resolve(); }
      this.wake.push(done);
    });
  }

  private async slot({ kinds, pool, executor }: Slot): Promise<void> {
    const { res } = this.options;
    while (!this.stopping) {
      let lease: Lease | null = null;
      try {
        await requeueExpired(res.db, this.id, { onEnded: settleEndedRun });
        lease = await claimRun(res.db, res.dialect, { owner: this.id, kinds, leaseMs: this.leaseMs, ...(pool === undefined ? {} : { pools: [pool] }) });
      } catch (error) {
        res.log.error({ err: error, worker: this.id }, "claiming work failed");
      }
      if (lease === null) {
        await this.sleep(this.pollMs);
        continue;
      }
      try {
        await this.execute(lease, executor);
      } catch (error) {
        res.log.error({ err: error, worker: this.id, runId: lease.runId }, "run handling failed");
        // Retried like a crash; on the last attempt the kind settles what the run was making.
        await failRun(res.db, lease, {
          kind: "system", reason: `worker error: ${(error as Error).message}`, backoffMs: this.options.backoffMs, onEnded: settleEndedRun,
        }).catch((failure: unknown) => res.log.error({ err: failure, worker: this.id, runId: lease.runId }, "recording the failed attempt failed"));
      }
    }
  }

  private async execute(lease: Lease, executor: Executor | undefined): Promise<void> {
    const { res } = this.options;
    const controller = new AbortController();
    this.running.set(lease.runId, controller);
    const stopWith = (reason: StopReason) => { if (!controller.signal.aborted) controller.abort(reason); };
    if (this.stopping) stopWith("shutdown");
    const beat = setInterval(() => {
      heartbeat(res.db, lease, this.leaseMs).then((state) => {
        if (!state.alive) stopWith("lost");
        else if (state.cancelRequested) stopWith("cancel");
        else if (state.pauseRequested) stopWith("pause");
      }, (error: unknown) => res.log.warn({ err: error, runId: lease.runId }, "heartbeat failed"));
    }, Math.max(100, Math.min(2_000, Math.floor(this.leaseMs / 3))));
    let outcome: RunOutcome;
    try {
      outcome = await RUN_CATALOG[lease.kind].attempt(productionRunDeps({
        res, lease, executor, settings: this.options.runtime ?? AUTO_RUNTIME,
        signal: controller.signal, leaseLost: () => stopWith("lost"), engines: this.options.engines,
      }));
    } finally {
      clearInterval(beat);
      this.running.delete(lease.runId);
    }
    const why = controller.signal.aborted ? (controller.signal.reason as StopReason) : null;
    if (outcome.kind === "lost" || why === "lost") return;
    if (why === "shutdown" && outcome.kind !== "done") {
      await releaseRun(res.db, lease, `worker ${this.id} shut down`);
      return;
    }
    // As a drain: whatever the stopped attempt reported, the run is set aside unspent (a stop asked
    // meanwhile wins; a pause withdrawn meanwhile sends it back to the queue).
    if (why === "pause" && outcome.kind !== "done") {
      const paused = await pauseLeasedRun(res.db, lease);
      if (paused.cancelRequested) await this.record(lease, outcome, true);
      return;
    }
    await this.record(lease, outcome, why === "cancel");
  }

  /**
   * The outcome as one fenced transition: Succeeded (with its result and settlement), Cancelled,
   * back to the queue without spending an attempt (the cluster stopped it), or a failed attempt;
   * a run that ends Failed or Cancelled is settled by its kind (`settleEndedRun`) in the same
   * transaction, after the attempt's own verdict if it wrote one.
   */
  private async record(lease: Lease, outcome: Exclude<RunOutcome, { kind: "lost" }>, cancelled: boolean): Promise<void> {
    const { res } = this.options;
    if (outcome.kind === "done") {
      await completeRun(res.db, lease, outcome.reason, {
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
        ...(outcome.settle === undefined ? {} : { extra: outcome.settle }),
      });
      return;
    }
    if (outcome.kind === "stopped" || cancelled) {
      await cancelRun(res.db, lease, outcome.kind === "stopped" ? outcome.reason : `stopped: ${outcome.reason.slice(0, 500)}`, settleEndedRun);
      return;
    }
    if (outcome.kind === "requeued") {
      await requeueRun(res.db, lease, { reason: outcome.reason, step: outcome.step, onEnded: settleEndedRun });
      return;
    }
    await failRun(res.db, lease, {
      kind: outcome.failure, reason: outcome.reason, backoffMs: this.options.backoffMs,
      onEnded: async (trx, run, ending) => {
        await outcome.settle?.(trx);
        await settleEndedRun(trx, run, ending);
      },
    });
  }
}
