import { RUN_CATALOG, RUN_KINDS, SERVER_KINDS, type EngineResources, type Executor, type ResourcePool } from "@sailfin/engine";
import { LocalExecutor } from "./local-executor.js";
import { engineLauncher } from "./engine-launcher.js";
import { SlurmExecutor } from "./slurm-executor.js";
import { findPython } from "./python.js";
import { onPath } from "./runtime-check.js";
import { workerSettingsFromEnv, type WorkerSettings } from "./settings.js";
import { Worker, type WorkerPool } from "./worker.js";

/**
 * The pools this worker serves: SAILFIN_WORKER_POOLS (each must be in SAILFIN_POOLS), else every
 * pool whose executor this machine can run (`slurm` needs `sbatch` on PATH). Throws naming the
 * variable when it names an unknown pool or none is left.
 */
export function servedPools(res: EngineResources, settings: WorkerSettings, env: NodeJS.ProcessEnv = process.env): ResourcePool[] {
  const known = res.pools.pools;
  if (settings.pools !== undefined) {
    const unknown = settings.pools.filter((id) => !known.some((p) => p.id === id));
    if (unknown.length > 0) throw new Error(`SAILFIN_WORKER_POOLS: ${unknown.map((id) => `"${id}"`).join(", ")} not in SAILFIN_POOLS (${known.map((p) => p.id).join(", ")})`);
    return known.filter((p) => settings.pools!.includes(p.id));
  }
  const slurm = onPath("sbatch", env);
  const served = known.filter((p) => p.executor === "local" || slurm);
  if (served.length === 0) throw new Error(`this worker can run none of the pools in SAILFIN_POOLS (${known.map((p) => p.id).join(", ")}): Slurm pools need sbatch on PATH`);
  return served;
}

/** One executor per pool: the worker's own child processes, or Slurm jobs of the pool's shape. */
function executorFor(pool: ResourcePool, python: string, settings: WorkerSettings, local: () => Executor): Executor {
  if (pool.executor === "local") return local();
  return new SlurmExecutor({
    python, graceMs: settings.graceMs, partition: pool.partition, nodes: pool.defaultNodes, tasksPerNode: pool.processesPerNode,
    timeLimit: pool.timeLimit, gpusPerNode: pool.gpusPerNode, memoryGb: pool.memoryGb,
  });
}

/**
 * Starts a worker in this process serving its pools (servedPools), each through its executor
 * (local child processes, or Slurm jobs), finding the interpreter when a kind it takes needs the
 * runtime. Throws PythonNotFoundError (with what to install) when none can import torch.
 *
 * @example const worker = await startLocalWorker(res); … await worker.stop();
 */
export async function startLocalWorker(res: EngineResources, settings: WorkerSettings = workerSettingsFromEnv(process.env), id?: string): Promise<Worker> {
  const served = servedPools(res, settings);
  const needsRuntime = (settings.kinds ?? RUN_KINDS).some((kind) => RUN_CATALOG[kind].needsRuntime);
  const python = needsRuntime ? await findPython() : "";
  let localExecutor: Executor | undefined;
  const local = () => (localExecutor ??= new LocalExecutor({ python, graceMs: settings.graceMs }));
  const pools: WorkerPool[] = served.map((pool) => ({
    id: pool.id, trainingSlots: pool.maxConcurrentRuns ?? settings.concurrency,
    ...(needsRuntime ? { executor: executorFor(pool, python, settings, local) } : {}),
  }));
  const worker = new Worker({
    res, pools, runtime: settings.runtime, slots: { serving: settings.servingSlots },
    ...(needsRuntime ? { engines: { host: settings.engineHost, ...engineLauncher({ python, graceMs: settings.graceMs }) } } : {}),
    leaseMs: settings.leaseMs, pollMs: settings.pollMs, backoffMs: settings.backoffMs,
    ...(settings.kinds === undefined ? {} : { kinds: settings.kinds }),
    ...(id === undefined ? {} : { id }),
  });
  await worker.start();
  return worker;
}

/**
 * A worker for SERVER_KINDS (dataset and model imports and exports, which need no Python), which every
 * serving process runs whether or not it has a training worker (docs/architecture.md, "Kinds every
 * server runs"). It claims imports of any pool: they run in Node, on the serving process.
 *
 * @example const imports = await startServerKindsWorker(res); … await imports.stop();
 */
export async function startServerKindsWorker(res: EngineResources, settings: WorkerSettings = workerSettingsFromEnv(process.env), id?: string): Promise<Worker> {
  const worker = new Worker({
    res, kinds: SERVER_KINDS, leaseMs: settings.leaseMs, pollMs: settings.pollMs, backoffMs: settings.backoffMs,
    ...(id === undefined ? {} : { id }),
  });
  await worker.start();
  return worker;
}
