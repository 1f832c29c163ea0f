/**
 * The run-kind catalog: one module per kind (payload schema, runtime spec, outcome), the RunDeps
 * seam every side effect of a kind goes through, the Executor seam the runtime runs behind, and
 * the RuntimeLink that records a job's events fenced by the lease.
 */
export { RUN_CATALOG, SERVER_KINDS, isRunKind, kindsByClass, settleEndedRun } from "./catalog.js";
export { CONCURRENCY_CLASSES, type ConcurrencyClass } from "./define.js";
export { type RunOutcome } from "./outcome.js";
export { type Executor, type ExecRequest, type ExecResult } from "./executor.js";
export { type EngineLaunch, type EngineProcess, type RuntimeSettings } from "./deps.js";
export { productionRunDeps } from "./production-deps.js";
