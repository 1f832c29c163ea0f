import { RUN_KINDS, isRunKind, type RunKind, type RuntimeSettings } from "@sailfin/engine";
import { RUNTIME_PRECISIONS, type RuntimePrecision } from "@sailfin/contract";

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
  /** The resource pools (ids in SAILFIN_POOLS) it serves; undefined: every pool whose executor it can run. */
  readonly pools: readonly string[] | undefined;
  /** Services (inference engines) a pool of this worker serves at once. */
  readonly servingSlots: number;
  /** The address its engines bind: the server must reach it. */
  readonly engineHost: string;
}

/**
 * `SAILFIN_WORKER_CONCURRENCY` (training runs at once, default 1), `SAILFIN_LEASE_MS` (30000),
 * `SAILFIN_POLL_MS` (1000), `SAILFIN_RETRY_BACKOFF_MS` (5000), `SAILFIN_STOP_GRACE_MS` (30000),
 * `SAILFIN_WORKER_KINDS` (comma-separated run kinds, e.g. `finetune,publish`; default all),
 * `SAILFIN_DEVICE` (`auto`, `cpu`, `cuda`, `cuda:1` …; default auto), `SAILFIN_PRECISION`
 * (`auto`, `fp32`, `bf16`; default auto), `SAILFIN_WORKER_POOLS` (comma-separated pool ids of
 * SAILFIN_POOLS; default every pool whose executor this machine can run), `SAILFIN_WORKER_SERVING`
 * (services it serves at once, a pool; default 2), `SAILFIN_ENGINE_HOST` (the address serving
 * engines bind, which the server must reach; default 127.0.0.1). Where runs execute —
 * SAILFIN_POOLS, or SAILFIN_EXECUTOR and SAILFIN_SLURM_* as its shorthand — is the engine's
 * (`poolsFromEnv`), shared with the server.
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
    pools: poolIds(env.SAILFIN_WORKER_POOLS),
    servingSlots: int("SAILFIN_WORKER_SERVING", 2, 0),
    engineHost: (env.SAILFIN_ENGINE_HOST ?? "").trim() || "127.0.0.1",
  };
}

function poolIds(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  return [...new Set(text.split(",").map((id) => id.trim()).filter((id) => id !== ""))];
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
