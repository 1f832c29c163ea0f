import type { Kysely } from "kysely";
import { nowIso, type FineTuningMetricPoint } from "@sailfin/contract";
import type { Database } from "@sailfin/store";
import type { Lease } from "./lease.js";

/** A logged training step as the runtime reports it: the wire point, less the eval loss (recorded apart). */
export type MetricPoint = Omit<FineTuningMetricPoint, "evalLoss">;

export interface CheckpointPoint {
  readonly step: number;
  /** Artifact key of the checkpoint folder (`runs/<taskId>/checkpoints/step_000010/`). */
  readonly path: string;
  readonly trainLoss: number | null;
  readonly evalLoss: number | null;
}

/** What the worker gathered from the runtime's events since its last write. */
export interface ProgressBatch {
  /** 0–100. */
  readonly progress?: number;
  readonly metrics?: readonly MetricPoint[];
  readonly evals?: ReadonlyArray<{ readonly step: number; readonly evalLoss: number }>;
  readonly checkpoints?: readonly CheckpointPoint[];
  /** Keep only this many newest checkpoint rows (the runtime deletes older folders). */
  readonly keepCheckpoints?: number;
}

/**
 * Writes a batch of training progress in one transaction, fenced by the lease: the first
 * statement updates the run's progress `WHERE lease_token = ?`, and when that matches no row
 * (the lease was lost) nothing else is written and the result is false.
 *
 * @example await recordProgress(db, lease, { progress: 40, metrics: [{ step: 4, epoch: 0.4, loss: 2.1, lr: 3e-4, gradNorm: 1.2, tokensPerSecond: 900 }] })
 */
export async function recordProgress(db: Kysely<Database>, lease: Lease, batch: ProgressBatch): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    let fence = trx.updateTable("runs").set({ lease_owner: lease.owner });
    if (batch.progress !== undefined) fence = fence.set({ progress: Math.max(0, Math.min(100, batch.progress)) });
    const result = await fence.where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    const at = nowIso();
    if (batch.metrics !== undefined && batch.metrics.length > 0) {
      await trx.insertInto("run_metrics").values(batch.metrics.map((m) => ({
        run_num: lease.runNum, step: m.step, epoch: m.epoch, loss: m.loss, lr: m.lr, grad_norm: m.gradNorm,
        tokens_per_s: m.tokensPerSecond, eval_loss: null, at,
      }))).execute();
    }
    for (const e of batch.evals ?? []) {
      const updated = await trx.updateTable("run_metrics").set({ eval_loss: e.evalLoss })
        .where("run_num", "=", lease.runNum).where("step", "=", e.step).executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        await trx.insertInto("run_metrics").values({
          run_num: lease.runNum, step: e.step, epoch: null, loss: null, lr: null, grad_norm: null, tokens_per_s: null, eval_loss: e.evalLoss, at,
        }).execute();
      }
    }
    for (const c of batch.checkpoints ?? []) {
      await trx.insertInto("run_checkpoints")
        .values({ run_num: lease.runNum, step: c.step, path: c.path, train_loss: c.trainLoss, eval_loss: c.evalLoss, created_at: at })
        .onConflict((oc) => oc.columns(["run_num", "step"]).doUpdateSet({ path: c.path, train_loss: c.trainLoss, eval_loss: c.evalLoss }))
        .execute();
    }
    if (batch.keepCheckpoints !== undefined && (batch.checkpoints ?? []).length > 0) {
      const steps = await trx.selectFrom("run_checkpoints").select("step").where("run_num", "=", lease.runNum).orderBy("step", "desc").execute();
      const stale = steps.slice(Math.max(1, batch.keepCheckpoints)).map((s) => s.step);
      if (stale.length > 0) await trx.deleteFrom("run_checkpoints").where("run_num", "=", lease.runNum).where("step", "in", stale).execute();
    }
    return true;
  });
}

/**
 * Before a resumed attempt: drops what the lost attempt recorded after the checkpoint it
 * resumes from (metrics and checkpoint rows past `step`), so the series has each step once.
 * Fenced like every worker write.
 *
 * @example await forgetAfterStep(db, lease, 20)
 */
export async function forgetAfterStep(db: Kysely<Database>, lease: Lease, step: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx.updateTable("runs").set({ lease_owner: lease.owner })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await trx.deleteFrom("run_metrics").where("run_num", "=", lease.runNum).where("step", ">", step).execute();
    await trx.deleteFrom("run_checkpoints").where("run_num", "=", lease.runNum).where("step", ">", step).execute();
    return true;
  });
}
