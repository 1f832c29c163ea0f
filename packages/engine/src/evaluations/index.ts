export * from "./eval-spec.js";
export {
  MAX_EVAL_UNITS, MAX_EVAL_SAMPLES, createEval, describeEval, listEvals, stopEval, deleteEvals, evalResults,
  type CreateEvalInput, type EvalUnitInput, type EvalView, type EvalResultRow, type EvalResultFilter,
} from "./eval-tasks.js";
export {
  MAX_PART_RESULTS, DOWNLOAD_LINK_TTL_S, createEvalExport, describeEvalExport, latestEvalExport, downloadQuery, checkDownloadSignature,
  type CreateEvalExportInput, type EvalExportView,
} from "./eval-exports.js";
export { chatCompletionsUrl, judgeSample, type JudgeResult, type JudgeSampleInput } from "./judge.js";
export { DEFAULT_JUDGE_METRIC, DEFAULT_JUDGE_STEPS, DEFAULT_JUDGE_TEMPLATE, parseJudgeScore, renderJudgePrompt, type JudgePrompt } from "./judge-prompt.js";
export { judgeSummary, type JudgeSummary } from "./judge-summary.js";
export { QIANFAN_EXPORT_COLUMNS, evalExportFiles } from "./export-files.js";
export { NO_JUDGE_ENDPOINTS, judgeEndpointsFromEnv, resolveJudgeTarget, type JudgeEndpoint, type JudgeEndpoints, type JudgeTarget } from "./judge-endpoints.js";
