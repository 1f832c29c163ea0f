/** The worker: claims runs from the queue and runs each through its kind in the engine's RUN_CATALOG. */
export { Worker, type WorkerOptions } from "./worker.js";
// The Executor seam and the RuntimeLink live in the engine (runs/); re-exported for the worker's users.
export { type Executor, type ExecRequest, type ExecResult, RuntimeLink, type RuntimeEnding } from "@sailfin/engine";
export { LocalExecutor, defaultRuntimeDir, type LocalExecutorOptions } from "./local-executor.js";
export { findPython, findPythonAmong, PythonNotFoundError, SETUP_RUNTIME_SCRIPT } from "./python.js";
export { workerSettingsFromEnv, type WorkerSettings } from "./settings.js";
export { startLocalWorker, startServerKindsWorker } from "./start.js";
export { ensureRuntime, hostFacts, onPath, runtimeFix, RuntimeMissingError, type HostFacts, type RuntimeFix } from "./runtime-check.js";
