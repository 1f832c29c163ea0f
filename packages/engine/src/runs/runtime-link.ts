import { relative, sep } from "node:path";
import type { CheckpointPoint, MetricPoint, ProgressBatch } from "../queue/record-progress.js";

/** How the runtime's attempt ended, from its events (the exit code decides when none came). */
export type RuntimeEnding =
  | { readonly kind: "done"; readonly step: number; readonly outputs: Record<string, unknown> }
  | { readonly kind: "stopped"; readonly step: number; readonly checkpoint: string | null }
  | { readonly kind: "error"; readonly errorKind: "user" | "system"; readonly message: string };

export interface RuntimeLinkOptions {
  /** Writes a batch fenced by the lease (recordProgress); false when the lease was lost. */
  readonly record: (batch: ProgressBatch) => Promise<boolean>;
  /** Absolute root of the artifact store: checkpoint paths are stored as keys under it. */
  readonly artifactRoot: string;
  readonly keepCheckpoints: number;
  /** Called once when a fenced write finds the lease gone: the worker must stop the process. */
  readonly onLeaseLost: () => void;
  readonly flushMs?: number;
  /**
   * Maps a `progress {done, total}` fraction into part of the run's progress, as percent:
   * `offset + fraction × scale` (an evaluation runs one generation per model version).
   */
  readonly progressOffset?: number;
  readonly progressScale?: number;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * The engine's side of the runtime protocol's events: parses stdout line by line and records
 * what matters — metric rows (batched, one transaction per flush), progress, eval loss,
 * checkpoint rows — with writes fenced by the lease. Lines that are not JSON events are ignored
 * (the runtime logs to stderr; a stray print must not fail a run).
 */
export class RuntimeLink {
  private metrics: MetricPoint[] = [];
  private evals: Array<{ step: number; evalLoss: number }> = [];
  private checkpoints: CheckpointPoint[] = [];
  private progress: number | undefined;
  private totalSteps = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private lost = false;
  private failure: Error | null = null;
  ending: RuntimeEnding | null = null;
  lastStep = 0;

  constructor(private readonly options: RuntimeLinkOptions) {}

  /** Feed one stdout line. */
  line(text: string): void {
    let event: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return;
      event = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    const step = num(event.step);
    if (step !== null) this.lastStep = Math.max(this.lastStep, step);
    switch (event.event) {
      case "started":
        this.totalSteps = num(event.totalSteps) ?? 0;
        break;
      case "metrics":
        if (step === null) return;
        this.metrics.push({
          step, epoch: num(event.epoch), loss: num(event.loss), lr: num(event.lr), gradNorm: num(event.gradNorm),
          tokensPerSecond: num(event.tokensPerSecond),
        });
        break;
      case "progress": {
        const total = num(event.totalSteps) ?? this.totalSteps;
        if (step !== null && total > 0) this.progress = Math.min(99, Math.floor((step / total) * 100));
        // Recipes without steps (quantize, generate) count work items instead.
        const done = num(event.done);
        const items = num(event.total);
        if (step === null && done !== null && items !== null && items > 0) this.progress = Math.min(99, Math.floor((this.options.progressOffset ?? 0) + (done / items) * (this.options.progressScale ?? 100)));
        break;
      }
      case "eval": {
        const loss = num(event.evalLoss);
        if (step !== null && loss !== null) this.evals.push({ step, evalLoss: loss });
        break;
      }
      case "checkpoint":
        if (step === null || typeof event.path !== "string") return;
        this.checkpoints.push({ step, path: this.keyOf(event.path), trainLoss: num(event.trainLoss), evalLoss: num(event.evalLoss) });
        this.flush();
        return;
      case "done":
        this.ending = { kind: "done", step: step ?? this.lastStep, outputs: (event.outputs ?? {}) as Record<string, unknown> };
        break;
      case "stopped":
        this.ending = { kind: "stopped", step: step ?? this.lastStep, checkpoint: typeof event.checkpoint === "string" ? event.checkpoint : null };
        break;
      case "error":
        this.ending = { kind: "error", errorKind: event.kind === "user" ? "user" : "system", message: String(event.message ?? "unknown error") };
        break;
      default:
        return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.options.flushMs ?? 500);
  }

  /** Artifact key of an absolute checkpoint folder (`runs/<id>/checkpoints/step_000010/`). */
  keyOf(path: string): string {
    const rel = relative(this.options.artifactRoot, path).split(sep).join("/");
    return rel.endsWith("/") ? rel : `${rel}/`;
  }

  /** Writes what is buffered (serialised: one write at a time, in order). */
  flush(): Promise<void> {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
    const batch = {
      ...(this.progress === undefined ? {} : { progress: this.progress }),
      metrics: this.metrics, evals: this.evals, checkpoints: this.checkpoints, keepCheckpoints: this.options.keepCheckpoints,
    };
    this.metrics = []; this.evals = []; this.checkpoints = []; this.progress = undefined;
    this.chain = this.chain.then(async () => {
      if (this.lost || this.failure !== null) return;
      try {
        const ok = await this.options.record(batch);
        if (!ok) { this.lost = true; this.options.onLeaseLost(); }
      } catch (error) {
        // Kept for close(): a timer-driven flush has no caller to reject to, and an unhandled
        // rejection would take the whole process (and every other run in it) down.
        this.failure = error as Error;
      }
    });
    return this.chain;
  }

  /** Flushes and waits for every pending write; true unless the lease was lost. Throws a failed write's error. */
  async close(): Promise<boolean> {
    await this.flush();
    if (this.failure !== null) throw new Error(`recording training progress failed: ${this.failure.message}`, { cause: this.failure });
    return !this.lost;
  }
}
