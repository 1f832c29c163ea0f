/**
 * The run-kind catalog: one module per kind (payload schema, runtime spec, outcome), the RunDeps
 * seam every side effect of a kind goes through, the Executor seam the runtime runs behind, and
 * the RuntimeLink that records a job's events fenced by the lease.
 */
export { RUN_CATALOG, SERVER_KINDS, isRunKind, kindsByClass, settleEndedRun } from "./catalog.js";
export {
  CONCURRENCY_CLASSES, defineRunKind, parseStoredSpec, type ConcurrencyClass, type RunKindDefinition, type RunKindSpec,
} from "./define.js";
export { failed, type RunOutcome } from "./outcome.js";
export { type Executor, type ExecRequest, type ExecResult, type RuntimeRecipe } from "./executor.js";
export { RuntimeLink, type RuntimeEnding, type RuntimeLinkOptions } from "./runtime-link.js";
export { runtimeFailure, type RuntimeFailure } from "./runtime-failure.js";
export {
  runThroughLink, type RunDeps, type RunAttempt, type RunReads, type RunJudge, type RuntimeSettings, type LocalArtifacts,
  type ModelVersionRef, type StoredRun, type RuntimeJob, type RuntimeRun, type RuntimeParts,
} from "./deps.js";
export { productionRunDeps, type ProductionRunDepsInput } from "./production-deps.js";
export { finetuneSpecSchema, finetuneRuntimeSpec, type FinetuneRuntimeInput } from "./finetune.js";
export { publishSpecSchema, publishOutputKey, exportRuntimeSpec } from "./publish.js";
export { compressSpecSchema, quantizeRuntimeSpec, compressionResult } from "./compress.js";
export { evaluateSpecSchema, generateRuntimeSpec, parseSamples, cutAtStop, type GenerateRuntimeInput } from "./evaluate.js";
export { evalExportSpecSchema } from "./eval-export.js";
