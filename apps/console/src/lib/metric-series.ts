import type { FineTuningMetricPoint } from "@sailfin/sdk";

/**
 * The columns a training chart draws, kept sorted by step. Points stream in from the live-event
 * feed, mostly in order; a task retried from a checkpoint sends the steps after it again, and an
 * eval loss may arrive after its step's point (`eval` events): both overwrite in place, so the
 * chart keeps the last value per step (docs/api.md "Live events").
 */
export class MetricSeries {
  readonly steps: number[] = [];
  readonly loss: Array<number | null> = [];
  readonly evalLoss: Array<number | null> = [];
  readonly lr: Array<number | null> = [];
  /** The newest point's throughput, for the "tokens/s" figure. */
  tokensPerSecond: number | null = null;
  epoch: number | null = null;

  get size(): number {
    return this.steps.length;
  }

  get lastStep(): number | null {
    return this.steps.at(-1) ?? null;
  }

  /** Adds or replaces the point of `point.step`. */
  upsert(point: Pick<FineTuningMetricPoint, "step" | "loss" | "lr" | "evalLoss"> & Partial<FineTuningMetricPoint>): void {
    const i = this.#slot(point.step);
    this.loss[i] = point.loss;
    this.lr[i] = point.lr;
    this.evalLoss[i] = point.evalLoss;
    if (i === this.steps.length - 1) {
      if (point.tokensPerSecond !== undefined && point.tokensPerSecond !== null) this.tokensPerSecond = point.tokensPerSecond;
      if (point.epoch !== undefined && point.epoch !== null) this.epoch = point.epoch;
    }
  }

  /** An eval loss recorded after its step's point was sent. */
  setEval(step: number, evalLoss: number): void {
    const i = this.#slot(step);
    this.evalLoss[i] = evalLoss;
  }

  /** The uPlot data table: x, loss, eval loss, learning rate. */
  table(): [number[], Array<number | null>, Array<number | null>, Array<number | null>] {
    return [this.steps, this.loss, this.evalLoss, this.lr];
  }

  /** Index of `step`, inserting an empty row when new (appending is the common case). */
  #slot(step: number): number {
    const last = this.steps.at(-1);
    if (last === undefined || step > last) {
      this.steps.push(step);
      this.loss.push(null);
      this.evalLoss.push(null);
      this.lr.push(null);
      return this.steps.length - 1;
    }
    let lo = 0;
    let hi = this.steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.steps[mid]! < step) lo = mid + 1;
      else hi = mid;
    }
    if (this.steps[lo] !== step) {
      this.steps.splice(lo, 0, step);
      this.loss.splice(lo, 0, null);
      this.evalLoss.splice(lo, 0, null);
      this.lr.splice(lo, 0, null);
    }
    return lo;
  }
}
