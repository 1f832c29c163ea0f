import { RUNTIME_FREE_KINDS } from "@sailfin/contract";
import type { EngineResources } from "@sailfin/engine";
import type { Executor } from "./executor.js";
import { LocalExecutor } from "./local-executor.js";
import { findPython } from "./python.js";
import { workerSettingsFromEnv, type WorkerSettings } from "./settings.js";
import { Worker } from "./worker.js";

/**
 * Finds the interpreter and starts a worker with a local executor. Throws PythonNotFoundError
 * (with what to install) when no interpreter can import torch.
 *
 * @example const worker = await startLocalWorker(res); … await worker.stop();
 */
export async function startLocalWorker(res: EngineResources, settings: WorkerSettings = workerSettingsFromEnv(process.env), id?: string): Promise<Worker> {
  const python = await findPython();
  const worker = new Worker({
    res, executor: new LocalExecutor({ python, graceMs: settings.graceMs }),
    concurrency: settings.concurrency, leaseMs: settings.leaseMs, pollMs: settings.pollMs, backoffMs: settings.backoffMs,
    ...(settings.kinds === undefined ? {} : { kinds: settings.kinds }),
    ...(id === undefined ? {} : { id }),
  });
  await worker.start();
  return worker;
}

/** The executor of a worker that takes runtime-free kinds only: none of their handlers starts the runtime. */
const NO_RUNTIME: Executor = {
  run: () => Promise.reject(new Error("this worker has no Python runtime: it takes runtime-free run kinds only")),
};

/**
 * A worker for the kinds that need no Python runtime (dataset and model imports), which every
 * serving process runs whether or not it has a training worker (docs/architecture.md, "Runtime-free kinds").
 *
 * @example const imports = await startRuntimeFreeWorker(res); … await imports.stop();
 */
export async function startRuntimeFreeWorker(res: EngineResources, settings: WorkerSettings = workerSettingsFromEnv(process.env), id?: string): Promise<Worker> {
  const worker = new Worker({
    res, executor: NO_RUNTIME, kinds: RUNTIME_FREE_KINDS, leaseMs: settings.leaseMs, pollMs: settings.pollMs, backoffMs: settings.backoffMs,
    ...(id === undefined ? {} : { id }),
  });
  await worker.start();
  return worker;
}
