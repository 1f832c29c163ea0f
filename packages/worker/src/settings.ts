/** Worker settings from `SAILFIN_*` variables (all optional). */
export interface WorkerSettings {
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly backoffMs: number;
  /** SIGTERM → SIGKILL grace of the runtime process. */
  readonly graceMs: number;
}

/**
 * `SAILFIN_WORKER_CONCURRENCY` (training runs at once, default 1), `SAILFIN_LEASE_MS` (30000),
 * `SAILFIN_POLL_MS` (1000), `SAILFIN_RETRY_BACKOFF_MS` (5000), `SAILFIN_STOP_GRACE_MS` (30000).
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
  return {
    concurrency: int("SAILFIN_WORKER_CONCURRENCY", 1, 1),
    leaseMs: int("SAILFIN_LEASE_MS", 30_000, 500),
    pollMs: int("SAILFIN_POLL_MS", 1_000, 10),
    backoffMs: int("SAILFIN_RETRY_BACKOFF_MS", 5_000, 0),
    graceMs: int("SAILFIN_STOP_GRACE_MS", 30_000, 100),
  };
}
