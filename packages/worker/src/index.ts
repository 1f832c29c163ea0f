/** The worker: claims runs from the queue and executes them through the runtime. */
export { Worker, type WorkerOptions } from "./worker.js";
export { type Executor, type ExecRequest, type ExecResult } from "./executor.js";
export { LocalExecutor, defaultRuntimeDir, type LocalExecutorOptions } from "./local-executor.js";
export { findPython, findPythonAmong, PythonNotFoundError, SETUP_RUNTIME_SCRIPT } from "./python.js";
export { RuntimeLink, type RuntimeEnding } from "./runtime-link.js";
export { workerSettingsFromEnv, type WorkerSettings } from "./settings.js";
export { startLocalWorker, startRuntimeFreeWorker } from "./start.js";
export { ensureRuntime, hostFacts, onPath, runtimeFix, RuntimeMissingError, type HostFacts, type RuntimeFix } from "./runtime-check.js";
