import { relative, sep } from "node:path";
import type { z } from "zod";
import { RUNTIME_OUTPUTS, RuntimeEvent, type RuntimeRecipe } from "@sailfin/contract";
import type { CheckpointPoint, MetricPoint, ProgressBatch } from "../queue/record-progress.js";

/** How the runtime's attempt ended, from its events (the exit code decides when none came). */
export type RuntimeEnding =
  | { readonly kind: "done"; readonly step: number; readonly outputs: Record<string, unknown> }
  | { readonly kind: "stopped"; readonly step: number; readonly checkpoint: string | null }
  | { readonly kind: "error"; readonly errorKind: "user" | "system"; readonly message: string };

interface RuntimeLinkOptions {
  /** Writes a batch fenced by the lease (recordProgress); false when the lease was lost. */
  readonly record: (batch: ProgressBatch) => Promise<boolean>;
  /** Absolute root of the artifact store: checkpoint paths are stored as keys under it. */
  readonly artifactRoot: string;
  /** The recipe whose events these are (its `done` outputs schema). */
  readonly recipe: RuntimeRecipe;
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
  /** Metrics, evals and checkpoints of steps at or below it are already recorded: skipped (see RuntimeJob). */
  readonly recordedThroughStep?: number;
  /**
   * Awaited before a checkpoint's row is written: a remote store gets the folder first, so a row
   * never names a checkpoint another worker cannot download. False: the folder is gone (the
   * runtime pruned it for a newer one meanwhile) and gets no row.
   */
  readonly beforeCheckpoint?: (key: string) => Promise<boolean>;
  /** Awaited after a batch with checkpoint rows was written (pruning the store's copies of dropped rows). */
  readonly afterCheckpoints?: () => Promise<void>;
  /** `serve`: called once, with the engine's `http://host:port`, when the runtime says it listens. */
  readonly onReady?: (url: string) => void;
}

const RUNTIME_EVENT_NAMES: ReadonlySet<string> = new Set(RuntimeEvent.options.map((o) => o.shape.event.value));

/** The first issue of a failed parse, with its path. */
function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined ? "invalid" : `${issue.path.join(".") || "(event)"}: ${issue.message}`;
}

/**
 * The engine's side of the runtime protocol's events: parses stdout line by line and records
 * what matters — metric rows (batched, one transaction per flush), progress, eval loss,
 * checkpoint rows — with writes fenced by the lease. Events are parsed with the contract's
 * schemas (`RuntimeEvent`); lines that are not JSON objects are ignored (the runtime logs to
 * stderr; a stray print must not fail a run).
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
  private malformed: string | null = null;
  private ready = false;
  ending: RuntimeEnding | null = null;
  lastStep = 0;
  /** The runtime's cumulative trained-token count (kept across resumes) at its latest metrics event. */
  trainedTokens: number | undefined;

  constructor(private readonly options: RuntimeLinkOptions) {}

  /** Feed one stdout line. */
  line(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return;
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return;
    const parsed = RuntimeEvent.safeParse(raw);
    if (!parsed.success) {
      // A known event the protocol's schema refuses is drift between the runtime and this side:
      // kept, so a run that then ends without a valid `done` says why instead of "no events".
      const name = (raw as { event?: unknown }).event;
      if (typeof name === "string" && RUNTIME_EVENT_NAMES.has(name)) this.malformed ??= `${name} event: ${issueText(parsed.error)}`;
      return;
    }
    const event = parsed.data;
    if ("step" in event && typeof event.step === "number") this.lastStep = Math.max(this.lastStep, event.step);
    const recorded = (step: number) => step <= (this.options.recordedThroughStep ?? 0);
    switch (event.event) {
      case "started":
        this.totalSteps = event.totalSteps;
        break;
      case "metrics":
        this.trainedTokens = Math.max(this.trainedTokens ?? 0, event.trainedTokens);
        if (recorded(event.step)) return;
        this.metrics.push({
          step: event.step, epoch: event.epoch, loss: event.loss, lr: event.lr, gradNorm: event.gradNorm, tokensPerSecond: event.tokensPerSecond,
        });
        break;
      case "progress": {
        const total = event.totalSteps ?? this.totalSteps;
        if (event.step !== undefined && total > 0) this.progress = Math.min(99, Math.floor((event.step / total) * 100));
        // Recipes without steps (quantize, generate) count work items instead.
        if (event.step === undefined && event.done !== undefined && event.total !== undefined && event.total > 0) {
          this.progress = Math.min(99, Math.floor((this.options.progressOffset ?? 0) + (event.done / event.total) * (this.options.progressScale ?? 100)));
        }
        break;
      }
      case "eval":
        if (event.evalLoss !== null && !recorded(event.step)) this.evals.push({ step: event.step, evalLoss: event.evalLoss });
        break;
      case "checkpoint":
        if (recorded(event.step)) return;
        this.checkpoints.push({ step: event.step, path: this.keyOf(event.path), trainLoss: event.trainLoss, evalLoss: event.evalLoss });
        this.flush();
        return;
      case "done": {
        // Outputs are read with this recipe's schema (the event's union would match another recipe's subset).
        const outputs = RUNTIME_OUTPUTS[this.options.recipe].safeParse((raw as { outputs?: unknown }).outputs);
        this.ending = outputs.success
          ? { kind: "done", step: event.step ?? this.lastStep, outputs: outputs.data }
          : { kind: "error", errorKind: "system", message: `the runtime's done event breaks the protocol: outputs ${issueText(outputs.error)}` };
        break;
      }
      case "ready":
        if (this.ready) return;
        this.ready = true;
        this.options.onReady?.(event.url);
        return;
      case "stopped":
        this.ending = { kind: "stopped", step: event.step ?? this.lastStep, checkpoint: event.checkpoint };
        break;
      case "error":
        this.ending = { kind: "error", errorKind: event.kind, message: event.message };
        break;
    }
    this.timer ??= setTimeout(() => this.flush(), this.options.flushMs ?? 500);
  }

  /** How the attempt ended: its final event, else the protocol drift seen, else null (the exit code decides). */
  get outcome(): RuntimeEnding | null {
    if (this.ending !== null || this.malformed === null) return this.ending;
    return { kind: "error", errorKind: "system", message: `the runtime broke the protocol: ${this.malformed}` };
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
      metrics: this.metrics, evals: this.evals, keepCheckpoints: this.options.keepCheckpoints,
    };
    const candidates = this.checkpoints;
    this.metrics = []; this.evals = []; this.checkpoints = []; this.progress = undefined;
    this.chain = this.chain.then(async () => {
      if (this.lost || this.failure !== null) return;
      try {
        const checkpoints: CheckpointPoint[] = [];
        for (const c of candidates) if (await (this.options.beforeCheckpoint?.(c.path) ?? true)) checkpoints.push(c);
        const ok = await this.options.record({ ...batch, checkpoints });
        if (!ok) { this.lost = true; this.options.onLeaseLost(); }
        else if (checkpoints.length > 0) await this.options.afterCheckpoints?.();
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
