import { setTimeout as sleep } from "node:timers/promises";
import type { FineTuningMetricPoint, FineTuningTaskDetail, SailfinClient } from "@sailfin/sdk";
import { num } from "../args.js";
import type { Command } from "../command.js";
import { json } from "../output.js";
import { bar, clock, duration, loss, sparkline } from "../render/format.js";

/**
 * `sailfin tasks watch TASK`: follows a training run by polling DescribeFineTuningTask and
 * DescribeFineTuningTaskMetrics (sinceStep) every second. On a terminal one line is redrawn in
 * place:
 *
 *   [#####-----] step 12/40 30% ETA 0:21  412 tok/s  loss 1.234  ▇▆▅▄▃▂▁
 *
 * elsewhere (logs, pipes, tests) one line per new metric point. It ends with the final status
 * (`Done in 34 s, final loss 0.12`, `Failed: <reason>`, `Stopped`): exit 0 for Done, 1 otherwise.
 */

const FINAL = new Set(["Done", "Failed", "Stopped"]);
const SPARK_WIDTH = 16;

export const watchCommand: Command = {
  name: "tasks watch",
  usage: "TASK [--json]",
  summary: "follow a task live: progress, ETA, tokens/s, loss and its sparkline, then the final status (exit 0 only for Done)",
  // Seconds between polls; hidden (tests poll faster).
  flags: { interval: { type: "string", hidden: true } },
  positionals: { names: ["TASK"], min: 1 },
  async run(ctx, [taskId], flags) {
    const intervalMs = (num(flags, "interval", { min: 0.05 }) ?? 1) * 1000;
    const client = await ctx.client();
    const live = !ctx.json && process.stdout.isTTY === true;
    const write = (text: string) => { if (!ctx.json) process.stdout.write(text); };
    const watcher = new Watch(client, taskId!, live, write);
    const onInterrupt = () => { if (live) process.stdout.write("\n"); process.exit(130); };
    process.once("SIGINT", onInterrupt);
    try {
      const task = await watcher.follow(intervalMs);
      if (ctx.json) ctx.out(json(task));
      return task.runStatus === "Done" ? 0 : 1;
    } finally {
      process.off("SIGINT", onInterrupt);
    }
  },
};

/** Every metric point after `sinceStep` (all batches). */
export async function metricsSince(client: SailfinClient, taskId: string, sinceStep?: number): Promise<FineTuningMetricPoint[]> {
  const points: FineTuningMetricPoint[] = [];
  for await (const point of client.tasks.allMetrics({ taskId, ...(sinceStep === undefined ? {} : { sinceStep }) })) points.push(point);
  return points;
}

class Watch {
  private total: number | null = null;
  private tokensPerStep: number | null = null;
  private lastStep: number | undefined;
  private step = 0;
  private losses: number[] = [];
  private tokensPerSecond: number | null = null;
  /** A step and when it was seen: the measured step rate for the ETA. */
  private base: { step: number; at: number } | null = null;
  private status = "";

  constructor(private readonly client: SailfinClient, private readonly taskId: string, private readonly live: boolean, private readonly write: (text: string) => void) {}

  async follow(intervalMs: number): Promise<FineTuningTaskDetail> {
    let task = await this.describe();
    await this.loadQuote(task);
    for (;;) {
      this.noteStatus(task);
      // Metrics after the status: once it is final, this read has every point.
      for (const point of await metricsSince(this.client, this.taskId, this.lastStep)) this.take(point);
      // The rate is measured from the first poll that saw training steps (not from old points a
      // late watch reads all at once, nor from the setup before the first step).
      if (this.base === null && this.step > 0) this.base = { step: this.step, at: Date.now() };
      if (this.live) this.write(`\r\x1b[K${this.line(task, true)}`);
      if (FINAL.has(task.runStatus)) break;
      await sleep(intervalMs);
      task = await this.describe();
    }
    if (this.live) this.write("\n");
    this.write(`${this.finalLine(task)}\n`);
    return task;
  }

  private describe(): Promise<FineTuningTaskDetail> {
    return this.client.tasks.describe({ taskId: this.taskId });
  }

  /**
   * The run's total steps, from a quote of the task's own frozen settings (the server caches
   * the tokenized data, so this costs a lookup). Without it (an older server, a key that may
   * not quote) the watch shows the server's percentage instead.
   */
  private async loadQuote(task: FineTuningTaskDetail): Promise<void> {
    try {
      const quote = await this.client.tasks.quote({
        jobId: task.jobId, parameterScale: task.parameterScale, hyperParameterConfig: task.hyperParameterConfig,
        datasetConfig: {
          ...(task.datasetConfig.sourceType ? { sourceType: task.datasetConfig.sourceType } : {}),
          versions: task.datasetConfig.versions.map((v) => ({ versionId: v.versionId, ...(v.samplingRate == null ? {} : { samplingRate: v.samplingRate }) })),
          ...(task.datasetConfig.splitRatio === undefined ? {} : { splitRatio: task.datasetConfig.splitRatio }),
        },
        ...(task.incrementTaskId ? { incrementTaskId: task.incrementTaskId } : {}),
        ...(task.incrementCheckpointStep === undefined ? {} : { incrementCheckpointStep: task.incrementCheckpointStep }),
      });
      this.total = quote.totalSteps;
      this.tokensPerStep = quote.totalSteps > 0 ? quote.trainedTokens / quote.totalSteps : null;
    } catch {
      this.total = null;
    }
  }

  private noteStatus(task: FineTuningTaskDetail): void {
    if (task.runStatus === this.status) return;
    this.status = task.runStatus;
    if (FINAL.has(task.runStatus)) return;
    this.write(`${this.live ? "\r\x1b[K" : ""}${this.taskId} ${task.runStatus}\n`);
  }

  private take(point: FineTuningMetricPoint): void {
    this.lastStep = Math.max(this.lastStep ?? 0, point.step);
    if (point.loss === null) {
      if (point.evalLoss !== null && !this.live) this.write(`step ${point.step} eval loss ${loss(point.evalLoss)}\n`);
      return;
    }
    this.step = Math.max(this.step, point.step);
    this.losses.push(point.loss);
    if (point.tokensPerSecond !== null) this.tokensPerSecond = point.tokensPerSecond;
    if (!this.live) this.write(`${this.line(undefined, false)}\n`);
  }

  /** `[#####-----] step 12/40 30% ETA 0:21  412 tok/s  loss 1.234  ▇▆▅▄▃▂▁` (bar and sparkline on a terminal only). */
  private line(task: FineTuningTaskDetail | undefined, withGraphics: boolean): string {
    const done = task?.runStatus === "Done";
    const fraction = this.total !== null && this.total > 0
      ? (done ? 1 : this.step / this.total)
      : task?.runProgress !== undefined ? parseInt(task.runProgress, 10) / 100 : done ? 1 : null;
    const parts: string[] = [];
    if (withGraphics) parts.push(bar(fraction ?? 0));
    parts.push(`step ${this.step}${this.total === null ? "" : `/${this.total}`}${fraction === null ? "" : ` ${Math.floor(fraction * 100)}%`}`);
    const eta = this.eta();
    if (eta !== null && !done && this.step < (this.total ?? 0)) parts.push(`ETA ${clock(eta)}`);
    const fields = [parts.join(" ")];
    if (this.tokensPerSecond !== null) fields.push(`${Math.round(this.tokensPerSecond)} tok/s`);
    if (this.losses.length > 0) fields.push(`loss ${loss(this.losses.at(-1)!)}`);
    if (withGraphics && this.losses.length > 1) fields.push(sparkline(this.losses, SPARK_WIDTH));
    return fields.join("  ");
  }

  /** Seconds left: from the step rate measured since the watch began, else from tokens/s. */
  private eta(): number | null {
    if (this.total === null) return null;
    const left = Math.max(0, this.total - this.step);
    if (this.base !== null && this.step > this.base.step) {
      const seconds = (Date.now() - this.base.at) / 1000;
      if (seconds >= 1) return (left * seconds) / (this.step - this.base.step);
    }
    if (this.tokensPerStep !== null && this.tokensPerSecond !== null && this.tokensPerSecond > 0) return (left * this.tokensPerStep) / this.tokensPerSecond;
    return null;
  }

  private finalLine(task: FineTuningTaskDetail): string {
    switch (task.runStatus) {
      case "Done": {
        const seconds = task.finishDate ? (Date.parse(task.finishDate) - Date.parse(task.createDate)) / 1000 : NaN;
        const took = Number.isFinite(seconds) ? ` in ${duration(seconds)}` : "";
        return `Done${took}${this.losses.length > 0 ? `, final loss ${loss(this.losses.at(-1)!)}` : ""}`;
      }
      case "Failed": return `Failed: ${task.failureReason || "no reason recorded"}`;
      default: return `Stopped${this.step > 0 ? ` at step ${this.step}${this.total === null ? "" : `/${this.total}`}` : ""}`;
    }
  }
}
