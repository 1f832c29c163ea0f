import type { RunStateRef, RunStatus } from "@sailfin/contract";
import type { WorkRow } from "./queue/find-work.js";
import { runStateOf } from "./queue/run-state.js";

/**
 * What every queued kind that routes describe (an evaluation, its export, a compression) shows
 * of its `runs` row, mapped once to camelCase so that no route reads a column.
 */
export interface WorkRunRecord {
  readonly num: number;
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly description: string;
  readonly status: RunStatus;
  readonly cancelRequested: boolean;
  /** Percent done (0–100) while it runs. */
  readonly progress: number;
  readonly failureReason: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  /** Its state as an error message names it (SailfinError `state`). */
  readonly runState: RunStateRef;
  /** The resource pool it was queued for. */
  readonly poolId: string;
}

export function toWorkRunRecord(row: WorkRow): WorkRunRecord {
  return {
    num: row.num, id: row.id, kind: row.kind, name: row.name, description: row.description, status: row.status as RunStatus,
    cancelRequested: row.cancel_requested !== 0, progress: Number(row.progress), failureReason: row.failure_reason,
    createdAt: row.created_at, finishedAt: row.finished_at, runState: runStateOf(row), poolId: row.pool_id,
  };
}

/** A queued kind's record with its payload and outcome parsed: what its describe routes render. */
export interface WorkRunView<Spec, Result> extends WorkRunRecord {
  readonly spec: Spec;
  /** null until the run records its outcome. */
  readonly result: Result | null;
}

/** @example const view = toWorkRunView<EvalRunSpec, EvalResult>(row); */
export function toWorkRunView<Spec, Result>(row: WorkRow): WorkRunView<Spec, Result> {
  return { ...toWorkRunRecord(row), spec: JSON.parse(row.spec) as Spec, result: row.result === null ? null : JSON.parse(row.result) as Result };
}
