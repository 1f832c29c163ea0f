import type { EngineResources } from "@sailfin/engine";
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
