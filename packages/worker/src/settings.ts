import { RUN_KINDS, isRunKind, type RunKind, type RuntimeSettings } from "@sailfin/engine";
import { RUNTIME_PRECISIONS, type RuntimePrecision } from "@sailfin/contract";
import type { SlurmJobShape } from "./slurm-executor.js";

/** Worker settings from `SAILFIN_*` variables (all optional), read once at start-up. */
export interface WorkerSettings {
  /** Training runs at once. */
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly backoffMs: number;
  /** SIGTERM → SIGKILL grace of the runtime process. */
  readonly graceMs: number;
  /** The run kinds to take; undefined: all. */
  readonly kinds: readonly RunKind[] | undefined;
  /** Device and precision the runtime specs carry. */
  readonly runtime: RuntimeSettings;
  /** Where runtime jobs run: child processes of the worker, or Slurm jobs of this shape. */
  readonly executor: { readonly kind: "local" } | { readonly kind: "slurm"; readonly shape: SlurmJobShape };
}

/**
 * `SAILFIN_WORKER_CONCURRENCY` (training runs at once, default 1), `SAILFIN_LEASE_MS` (30000),
 * `SAILFIN_POLL_MS` (1000), `SAILFIN_RETRY_BACKOFF_MS` (5000), `SAILFIN_STOP_GRACE_MS` (30000),
 * `SAILFIN_WORKER_KINDS` (comma-separated run kinds, e.g. `finetune,publish`; default all),
 * `SAILFIN_DEVICE` (`auto`, `cpu`, `cuda`, `cuda:1` …; default auto), `SAILFIN_PRECISION`
 * (`auto`, `fp32`, `bf16`; default auto), `SAILFIN_EXECUTOR` (`local`, the default, or `slurm`: each
 * runtime job a Slurm batch job, on the cluster SLURM_CONF names, shaped by `SAILFIN_SLURM_PARTITION`
 * (default the cluster's), `SAILFIN_SLURM_NODES` (1), `SAILFIN_SLURM_TASKS_PER_NODE` (1) and
 * `SAILFIN_SLURM_TIME_LIMIT` (Slurm's `--time`; default the partition's)). One shape per worker
 * for now: resource pools (`SAILFIN_POOLS`, a shape per task's `resourceConfig`) come later.
 *
 * @example const settings = workerSettingsFromEnv(process.env);
 */
export function workerSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): WorkerSettings {
  const int = (name: string, fallback: number, min: number): number => {
    const text = env[name];
    if (text === undefined || text === "") return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${text}"`);
    return value;
  };
  const word = (name: string): string => (env[name] ?? "").trim() || "auto";
  return {
    concurrency: int("SAILFIN_WORKER_CONCURRENCY", 1, 1),
    leaseMs: int("SAILFIN_LEASE_MS", 30_000, 500),
    pollMs: int("SAILFIN_POLL_MS", 1_000, 10),
    backoffMs: int("SAILFIN_RETRY_BACKOFF_MS", 5_000, 0),
    graceMs: int("SAILFIN_STOP_GRACE_MS", 30_000, 100),
    kinds: runKinds(env.SAILFIN_WORKER_KINDS),
    runtime: { device: word("SAILFIN_DEVICE"), precision: precision(word("SAILFIN_PRECISION")) },
    executor: executorChoice(env, int),
  };
}

function executorChoice(env: Readonly<Record<string, string | undefined>>, int: (name: string, fallback: number, min: number) => number): WorkerSettings["executor"] {
  const kind = (env.SAILFIN_EXECUTOR ?? "").trim() || "local";
  if (kind === "local") return { kind };
  if (kind !== "slurm") throw new Error(`SAILFIN_EXECUTOR must be local or slurm, got "${kind}"`);
  const text = (name: string) => (env[name] ?? "").trim() || undefined;
  return {
    kind,
    shape: {
      partition: text("SAILFIN_SLURM_PARTITION"), nodes: int("SAILFIN_SLURM_NODES", 1, 1),
      tasksPerNode: int("SAILFIN_SLURM_TASKS_PER_NODE", 1, 1), timeLimit: text("SAILFIN_SLURM_TIME_LIMIT"),
    },
  };
}

function precision(text: string): RuntimePrecision {
  const known = RUNTIME_PRECISIONS.find((p) => p === text);
  if (known === undefined) throw new Error(`SAILFIN_PRECISION must be one of ${RUNTIME_PRECISIONS.join(", ")}, got "${text}"`);
  return known;
}

function runKinds(text: string | undefined): RunKind[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const words = text.split(",").map((k) => k.trim()).filter((k) => k !== "");
  const kinds = words.filter(isRunKind);
  if (kinds.length !== words.length || kinds.length === 0) {
    throw new Error(`SAILFIN_WORKER_KINDS must list run kinds among ${RUN_KINDS.join(", ")}, got "${text}"`);
  }
  return kinds;
}
