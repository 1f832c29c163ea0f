import { RUN_CATALOG, RUN_KINDS, SERVER_KINDS, type EngineResources, type Executor } from "@sailfin/engine";
import { LocalExecutor } from "./local-executor.js";
import { SlurmExecutor } from "./slurm-executor.js";
import { findPython } from "./python.js";
import { workerSettingsFromEnv, type WorkerSettings } from "./settings.js";
import { Worker } from "./worker.js";

async function executorFor(settings: WorkerSettings): Promise<Executor> {
  const python = await findPython();
  if (settings.executor.kind === "slurm") return new SlurmExecutor({ python, graceMs: settings.graceMs, ...settings.executor.shape });
  return new LocalExecutor({ python, graceMs: settings.graceMs });
}

/**
 * Starts a worker in this process with the executor its settings choose (local child processes,
 * or Slurm jobs), finding the interpreter when a kind it takes needs the runtime. Throws
 * PythonNotFoundError (with what to install) when none can import torch.
 *
 * @example const worker = await startLocalWorker(res); … await worker.stop();
 */
export async function startLocalWorker(res: EngineResources, settings: WorkerSettings = workerSettingsFromEnv(process.env), id?: string): Promise<Worker> {
  const needsRuntime = (settings.kinds ?? RUN_KINDS).some((kind) => RUN_CATALOG[kind].needsRuntime);
  const worker = new Worker({
    res, ...(needsRuntime ? { executor: await executorFor(settings) } : {}),
    slots: { training: settings.concurrency }, runtime: settings.runtime,
    leaseMs: settings.leaseMs, pollMs: settings.pollMs, backoffMs: settings.backoffMs,
    ...(settings.kinds === undefined ? {} : { kinds: settings.kinds }),
    ...(id === undefined ? {} : { id }),
  });
  await worker.start();
  return worker;
}

/**
 * A worker for SERVER_KINDS (dataset and model imports and exports, which need no Python), which every
 * serving process runs whether or not it has a training worker (docs/architecture.md, "Kinds every server runs").
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
