import type { EngineResources } from "../resources.js";
import type { MetricPoint } from "../queue/record-progress.js";
import { findRun } from "./find.js";
import type { FinetuneRef } from "./refs.js";

/** One logged training step (Sailfin extension `DescribeFineTuningTaskMetrics`): what the worker recorded, plus eval loss. */
interface RunMetricPoint extends MetricPoint {
  readonly evalLoss: number | null;
}

interface RunMetricsPage {
  readonly taskId: string;
  readonly metrics: RunMetricPoint[];
  /** True when more steps follow: ask again with `sinceStep` = the last step returned. */
  readonly isTruncated: boolean;
}

/** Points per answer; a chart asks again with `sinceStep` for more. */
const METRICS_PAGE = 2_000;

const num = (v: number | null) => (v === null ? null : Number(v));

/**
 * The metric series of a run, by step, after `sinceStep` (exclusive; all when absent). Keyset
 * by step on the (run_num, step) index: a chart polling for new points reads only those.
 *
 * @example await runMetrics(res, { id: "task-…" }, "taskId", 40) // steps 41…
 */
export async function runMetrics(res: EngineResources, ref: FinetuneRef, field: string, sinceStep?: number): Promise<RunMetricsPage> {
  const run = await findRun(res.db, ref, field);
  let query = res.db.selectFrom("run_metrics").selectAll().where("run_num", "=", run.num);
  if (sinceStep !== undefined) query = query.where("step", ">", sinceStep);
  const rows = await query.orderBy("step", "asc").orderBy("num", "asc").limit(METRICS_PAGE + 1).execute();
  const page = rows.slice(0, METRICS_PAGE);
  return {
    taskId: run.id,
    metrics: page.map((r) => ({
      step: r.step, epoch: num(r.epoch), loss: num(r.loss), lr: num(r.lr), gradNorm: num(r.grad_norm),
      tokensPerSecond: num(r.tokens_per_s), evalLoss: num(r.eval_loss),
    })),
    isTruncated: rows.length > METRICS_PAGE,
  };
}
