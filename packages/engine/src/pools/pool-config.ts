import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * Resource pools (issue 13 §3): where runs execute, declared once by the operator in
 * `SAILFIN_POOLS` (JSON text, or the path of a JSON file) and read at start-up by the server and
 * every worker. Qianfan's `resourceConfig.resourceId` names a pool; docs/scale-out.md documents
 * the file. Without SAILFIN_POOLS the one pool is `local`, shaped by the older shorthand
 * variables (SAILFIN_EXECUTOR, SAILFIN_SLURM_*), so a setup from before pools keeps working.
 */

const POOL_EXECUTORS = ["local", "slurm"] as const;
type PoolExecutor = (typeof POOL_EXECUTORS)[number];

export interface ResourcePool {
  readonly id: string;
  readonly executor: PoolExecutor;
  /** Processes (ranks) a node holds: a run's most, and its default. */
  readonly processesPerNode: number;
  /** Nodes one run may span (always 1 for `local`). */
  readonly maxNodes: number;
  /** Nodes of a run that names none. */
  readonly defaultNodes: number;
  /** GPUs per node a Slurm job asks for (`--gpus-per-node`); 0: none asked. */
  readonly gpusPerNode: number;
  /** Memory per node a Slurm job asks for (`--mem`, in GB); undefined: the partition's default. */
  readonly memoryGb: number | undefined;
  /** Slurm partition; undefined: the cluster's default. */
  readonly partition: string | undefined;
  /** Slurm `--time`; undefined: the partition's. */
  readonly timeLimit: string | undefined;
  /** Training runs of this pool a worker runs at once; undefined: SAILFIN_WORKER_CONCURRENCY. */
  readonly maxConcurrentRuns: number | undefined;
  /** The inference engine its services run (docs/serving.md); undefined: Sailfin's runtime `serve`. */
  readonly engine: PoolEngine | undefined;
}

/**
 * An operator's OpenAI-compatible engine (vLLM, SGLang …) for a pool's services: the command a
 * worker starts, with `{modelDir}`, `{host}`, `{port}`, `{servedModelName}`, `{apiKeyFile}` and
 * `{device}` filled in. The engine's key goes in the environment (SAILFIN_ENGINE_API_KEY and
 * VLLM_API_KEY), never on the command line, where `ps` shows it.
 */
export interface PoolEngine {
  readonly name: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** How long loading may take before /health must answer (default 600 s). */
  readonly readyTimeoutSec: number;
}

export interface ResourcePools {
  readonly pools: readonly ResourcePool[];
  /** The pool of runs that name none (the file's `default`, else its first pool). */
  readonly defaultId: string;
}

/** Where a run executes: recorded on its row when it is queued. */
export interface Placement {
  readonly poolId: string;
  readonly nodes: number;
  readonly processesPerNode: number;
}

/** The pools when nothing is configured: the worker's own machine, one process. */
export const LOCAL_POOLS: ResourcePools = Object.freeze({
  pools: Object.freeze([Object.freeze({
    id: "local", executor: "local", processesPerNode: 1, maxNodes: 1, defaultNodes: 1, gpusPerNode: 0,
    memoryGb: undefined, partition: undefined, timeLimit: undefined, maxConcurrentRuns: undefined, engine: undefined,
  } satisfies ResourcePool)]),
  defaultId: "local",
});

const count = (max: number) => z.number().int("must be an integer").min(1, "must be at least 1").max(max, `must be at most ${max}`);
/** Slurm's `--time` forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or UNLIMITED. */
const SLURM_TIME = /^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/;

const PoolEntry = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit"),
  executor: z.enum(POOL_EXECUTORS, "must be local or slurm"),
  processesPerNode: count(1024).optional(),
  maxNodes: count(100_000).optional(),
  defaultNodes: count(100_000).optional(),
  gpusPerNode: z.number().int("must be an integer").min(0, "must be at least 0").max(1024).optional(),
  memoryGb: z.number().positive("must be positive").optional(),
  partition: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be a Slurm partition name").optional(),
  timeLimit: z.string().regex(SLURM_TIME, "must be a Slurm time (MM, HH:MM:SS, D-HH:MM …)").optional(),
  maxConcurrentRuns: count(1024).optional(),
  engine: z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,31}$/, "must be 1-32 of [a-z0-9._-] (vllm, sglang …)"),
    command: z.array(z.string().min(1).max(4096)).min(1, "must name the program").max(256),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"), z.string().max(4096)).optional(),
    readyTimeoutSec: z.number().int("must be an integer").min(1, "must be at least 1").max(86_400).optional(),
  }).optional(),
});

const PoolsFile = z.strictObject({
  pools: z.array(PoolEntry).min(1, "must list at least one pool"),
  default: z.string().optional(),
});

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The pools from `SAILFIN_POOLS` (JSON text starting with `{`, else a file path), or the one
 * default pool the shorthand variables shape. Throws one Error listing every problem, each naming
 * the variable, the pool's index and the field (`SAILFIN_POOLS: pools[1].maxNodes: must be at least 1`).
 *
 * @example const pools = poolsFromEnv({ SAILFIN_POOLS: '{"pools":[{"id":"local","executor":"local"}]}' });
 */
export function poolsFromEnv(env: Env): ResourcePools {
  const text = (env.SAILFIN_POOLS ?? "").trim();
  if (text === "") return shorthandPools(env);
  const stray = ["SAILFIN_EXECUTOR", "SAILFIN_SLURM_NODES", "SAILFIN_SLURM_TASKS_PER_NODE"].filter((name) => (env[name] ?? "").trim() !== "");
  if (stray.length > 0) {
    throw new Error(`SAILFIN_POOLS: ${stray.join(", ")} shape the default pool only when SAILFIN_POOLS is unset; give each pool its executor, maxNodes and processesPerNode in the file instead`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.startsWith("{") ? text : readFileSync(text, "utf8"));
  } catch (error) {
    throw new Error(`SAILFIN_POOLS: ${text.startsWith("{") ? "" : `${text}: `}${(error as Error).message}`);
  }
  return parsePools(raw, {
    partition: (env.SAILFIN_SLURM_PARTITION ?? "").trim() || undefined,
    timeLimit: (env.SAILFIN_SLURM_TIME_LIMIT ?? "").trim() || undefined,
  });
}

/**
 * Checks a parsed pools file. `slurmDefaults` fill a Slurm pool's partition and time limit when it
 * leaves them out (a pool's own fields win).
 */
export function parsePools(raw: unknown, slurmDefaults: { partition?: string | undefined; timeLimit?: string | undefined } = {}): ResourcePools {
  const parsed = PoolsFile.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`SAILFIN_POOLS: ${parsed.error.issues.map((i) => `${i.path.length > 0 ? fieldPath(i.path) : "(file)"}: ${i.message}`).join("; ")}`);
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  const pools = parsed.data.pools.map((entry, index): ResourcePool => {
    const at = `pools[${index}]`;
    if (seen.has(entry.id)) problems.push(`${at}.id: "${entry.id}" is listed twice`);
    seen.add(entry.id);
    const maxNodes = entry.maxNodes ?? entry.defaultNodes ?? 1;
    const defaultNodes = entry.defaultNodes ?? 1;
    if (defaultNodes > maxNodes) problems.push(`${at}.defaultNodes: ${defaultNodes} is more than maxNodes ${maxNodes}`);
    if (entry.executor === "local") {
      // The local executor starts ranks on the worker's own machine only.
      if (maxNodes > 1) problems.push(`${at}.maxNodes: a local pool has one node (the worker's machine)`);
      for (const field of ["partition", "timeLimit", "gpusPerNode", "memoryGb"] as const) {
        if (entry[field] !== undefined) problems.push(`${at}.${field}: only Slurm pools take it`);
      }
    }
    const slurm = entry.executor === "slurm";
    return Object.freeze({
      id: entry.id, executor: entry.executor, processesPerNode: entry.processesPerNode ?? 1, maxNodes, defaultNodes,
      gpusPerNode: entry.gpusPerNode ?? 0, memoryGb: entry.memoryGb,
      partition: entry.partition ?? (slurm ? slurmDefaults.partition : undefined),
      timeLimit: entry.timeLimit ?? (slurm ? slurmDefaults.timeLimit : undefined),
      maxConcurrentRuns: entry.maxConcurrentRuns,
      engine: entry.engine === undefined ? undefined : Object.freeze({
        name: entry.engine.name, command: Object.freeze([...entry.engine.command]), env: Object.freeze({ ...(entry.engine.env ?? {}) }),
        readyTimeoutSec: entry.engine.readyTimeoutSec ?? 600,
      }),
    });
  });
  const defaultId = parsed.data.default ?? pools[0]!.id;
  if (!seen.has(defaultId)) problems.push(`default: "${defaultId}" is not a listed pool`);
  if (problems.length > 0) throw new Error(`SAILFIN_POOLS: ${problems.join("; ")}`);
  return Object.freeze({ pools: Object.freeze(pools), defaultId });
}

/**
 * No SAILFIN_POOLS: one pool, `local`, run by SAILFIN_EXECUTOR (local, or slurm shaped by
 * SAILFIN_SLURM_PARTITION, _NODES, _TASKS_PER_NODE, _TIME_LIMIT). Its id stays `local` whatever
 * the executor, so a server started without these variables queues into the pool a Slurm worker
 * started with them serves.
 */
function shorthandPools(env: Env): ResourcePools {
  const executor = (env.SAILFIN_EXECUTOR ?? "").trim() || "local";
  if (executor === "local") return LOCAL_POOLS;
  if (executor !== "slurm") throw new Error(`SAILFIN_EXECUTOR must be local or slurm, got "${executor}"`);
  const int = (name: string): number => {
    const text = (env[name] ?? "").trim();
    if (text === "") return 1;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be an integer >= 1, got "${text}"`);
    return value;
  };
  const nodes = int("SAILFIN_SLURM_NODES");
  const entry: Record<string, unknown> = {
    id: "local", executor: "slurm", processesPerNode: int("SAILFIN_SLURM_TASKS_PER_NODE"), maxNodes: nodes, defaultNodes: nodes,
  };
  for (const [field, name] of [["partition", "SAILFIN_SLURM_PARTITION"], ["timeLimit", "SAILFIN_SLURM_TIME_LIMIT"]] as const) {
    const text = (env[name] ?? "").trim();
    if (text !== "") entry[field] = text;
  }
  try {
    return parsePools({ pools: [entry] });
  } catch (error) {
    throw new Error((error as Error).message.replace("SAILFIN_POOLS: pools[0].partition", "SAILFIN_SLURM_PARTITION").replace("SAILFIN_POOLS: pools[0].timeLimit", "SAILFIN_SLURM_TIME_LIMIT"));
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}
