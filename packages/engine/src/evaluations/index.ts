export * from "./eval-spec.js";
export {
  createEval, describeEval, listEvals, stopEval, deleteEvals, evalResults, type EvalUnitInput, type EvalView,
} from "./eval-tasks.js";
export {
  createEvalExport, describeEvalExport, latestEvalExport, type EvalExportView,
} from "./eval-exports.js";
export { NO_JUDGE_ENDPOINTS, judgeEndpointsFromEnv, type JudgeEndpoints } from "./judge-endpoints.js";
export {
  finishManualScoring, manualSamples, scoreManualSample,
} from "./manual-scores.js";
export type { ManualDimensionInput } from "./eval-tasks.js";
