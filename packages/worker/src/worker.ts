import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import {
  SYSTEM_ACTOR, announceWorker, withdrawWorker, cancelRun, claimRun, completeRun, failRun, heartbeat, releaseRun, requeueExpired, settlePublishedVersion,
  type EngineResources, type Lease, type PublishRunSpec, type RunKind,
} from "@sailfin/engine";
import { RUNTIME_FREE_KINDS } from "@sailfin/contract";
import type { Executor } from "./executor.js";
import { runFinetune } from "./handlers/finetune.js";
import { runPublish } from "./handlers/publish.js";
import { runCompress } from "./handlers/compress.js";
import { runEvaluate } from "./handlers/evaluate.js";
import { runEvalExport } from "./handlers/eval-export.js";
import { runDatasetImport, runModelImport } from "./handlers/imports.js";
import type { HandlerContext, Outcome } from "./outcome.js";

export interface WorkerOptions {
  readonly res: EngineResources;
  readonly executor: Executor;
  /** Default `<hostname>-<pid>-<random>`. */
  readonly id?: string;
  /** Training runs at once (default 1). */
  readonly concurrency?: number;
  /** Publish, compression and result-export runs at once (default 1); they run beside training. */
  readonly publishConcurrency?: number;
  /** Evaluations at once (default 1). */
  readonly evalConcurrency?: number;
  /** Lease length (default 30 s); heartbeats come every third of it. */
  readonly leaseMs?: number;
  /** How often an idle slot looks for work (default 1 s). */
  readonly pollMs?: number;
  /** First retry delay of a system failure (default 5 s, doubling). */
  readonly backoffMs?: number;
  /** Only these kinds (default all): slots that take none of them are left out. */
  readonly kinds?: readonly RunKind[];
}

type StopReason = "cancel" | "lost" | "shutdown";

const HANDLERS: Record<RunKind, (ctx: HandlerContext, lease: Lease) => Promise<Outcome>> = {
  finetune: runFinetune, publish: runPublish, compress: runCompress, evaluate: runEvaluate, "eval-export": runEvalExport,
  "dataset-import": runDatasetImport, "model-import": runModelImport,
};

/**
 * A worker: slots that claim runs from the queue, run them through the executor, heartbeat
 * their leases, stop them when asked, and record the outcome — every write fenced by the lease.
 * `stop()` drains: no new claims; running processes get SIGTERM (the runtime saves a
 * checkpoint) and their runs go back to the queue for another worker to resume.
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
   * retried at the next presence heartbeat: the slots run regardless.
   */
  async start(): Promise<void> {
    const only = this.options.kinds === undefined ? null : new Set<RunKind>(this.options.kinds);
    const slots: RunKind[][] = [];
    const add = (count: number, kinds: RunKind[]) => {
      const taken = only === null ? kinds : kinds.filter((k) => only.has(k));
      for (let i = 0; i < count && taken.length > 0; i++) slots.push(taken);
    };
    add(this.options.concurrency ?? 1, ["finetune"]);
    // Short file work (publish, compression, export, imports) never waits behind a long evaluation.
    add(this.options.publishConcurrency ?? 1, ["publish", "compress", "eval-export", "dataset-import", "model-import"]);
    add(this.options.evalConcurrency ?? 1, ["evaluate"]);
    this.slotKinds = [...new Set(slots.flat())];
    // A run queued by this process is claimed at once, not at the next poll.
    this.stopWaking = this.options.res.background.onQueued((kind) => {
      if (this.slotKinds.includes(kind)) for (const wake of this.wake.splice(0)) wake();
    });
    const announced = this.announce();
    this.loops = [...slots.map((kinds) => this.slot(kinds)), this.presence(announced)];
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
   * Announces the kinds that need the runtime: runtime-free kinds are run by every serving
   * process, so a worker that takes only those (a server's without Python) is not announced.
   */
  private async announce(): Promise<void> {
    const { res } = this.options;
    const kinds = this.slotKinds.filter((kind) => !RUNTIME_FREE_KINDS.includes(kind));
    if (kinds.length === 0) return;
    try {
      await announceWorker(res.db, { id: this.id, kinds, ttlMs: this.leaseMs });
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

  private async slot(kinds: RunKind[]): Promise<void> {
    const { res } = this.options;
    while (!this.stopping) {
      let lease: Lease | null = null;
      try {
        await requeueExpired(res.db, this.id);
        lease = await claimRun(res.db, res.dialect, { owner: this.id, kinds, leaseMs: this.leaseMs });
      } catch (error) {
        res.log.error({ err: error, worker: this.id }, "claiming work failed");
      }
      if (lease === null) {
        await this.sleep(this.pollMs);
        continue;
      }
      try {
        await this.execute(lease);
      } catch (error) {
        res.log.error({ err: error, worker: this.id, runId: lease.runId }, "run handling failed");
        await failRun(res.db, lease, { kind: "system", reason: `worker error: ${(error as Error).message}`, backoffMs: this.options.backoffMs })
          .catch(() => undefined);
      }
    }
  }

  private async execute(lease: Lease): Promise<void> {
    const { res } = this.options;
    const controller = new AbortController();
    this.running.set(lease.runId, controller);
    const stopWith = (reason: StopReason) => { if (!controller.signal.aborted) controller.abort(reason); };
    if (this.stopping) stopWith("shutdown");
    const beat = setInterval(() => {
      heartbeat(res.db, lease, this.leaseMs).then((state) => {
        if (!state.alive) stopWith("lost");
        else if (state.cancelRequested) stopWith("cancel");
      }, (error: unknown) => res.log.warn({ err: error, runId: lease.runId }, "heartbeat failed"));
    }, Math.max(100, Math.min(2_000, Math.floor(this.leaseMs / 3))));
    let outcome: Outcome;
    try {
      const ctx: HandlerContext = {
        res, executor: this.options.executor, owner: this.id, log: res.log, signal: controller.signal, leaseLost: () => stopWith("lost"),
      };
      outcome = await HANDLERS[lease.kind](ctx, lease);
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
    await this.record(lease, outcome, why === "cancel");
  }

  private async record(lease: Lease, outcome: Exclude<Outcome, { kind: "lost" }>, cancelled: boolean): Promise<void> {
    const { res } = this.options;
    const actor = { accessKey: this.id };
    if (outcome.kind === "done") {
      await completeRun(res.db, lease, outcome.reason, {
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
        ...(outcome.settle === undefined ? {} : { extra: outcome.settle }),
      });
      return;
    }
    if (outcome.kind === "stopped" || (cancelled && outcome.kind === "failed")) {
      await cancelRun(res.db, lease, outcome.kind === "stopped" ? outcome.reason : `stopped: ${outcome.reason.slice(0, 500)}`);
      return;
    }
    await failRun(res.db, lease, {
      kind: outcome.failure, reason: outcome.reason, backoffMs: this.options.backoffMs,
      ...(outcome.settle !== undefined ? { onFailed: outcome.settle } : lease.kind === "publish" ? {
        onFailed: async (trx) => {
          const spec = JSON.parse(lease.row.spec) as PublishRunSpec;
          await settlePublishedVersion(trx, SYSTEM_ACTOR, spec.versionNum, { status: "Fail", failReason: outcome.reason });
        },
      } : {}),
    });
  }
}
