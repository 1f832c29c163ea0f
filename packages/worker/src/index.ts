/** The worker: claims runs from the queue and runs each through its kind in the engine's RUN_CATALOG. */
export { Worker, type WorkerPool } from "./worker.js";
export { LocalExecutor } from "./local-executor.js";
export { engineLauncher } from "./engine-launcher.js";
export { SlurmExecutor, slurmJobName } from "./slurm-executor.js";
export { findPython, findPythonAmong, PythonNotFoundError, SETUP_RUNTIME_SCRIPT } from "./python.js";
export { workerSettingsFromEnv, type WorkerSettings } from "./settings.js";
export { servedPools, startLocalWorker, startServerKindsWorker } from "./start.js";
export { ensureRuntime, hostFacts, onPath, RuntimeMissingError } from "./runtime-check.js";
