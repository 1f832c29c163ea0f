/**
 * Fine-tuning (V2 jobs and tasks, V1 tasks and jobs) in one internal vocabulary: a *job* is the
 * container, a *run* one execution. Only what the routes and later modules need is exported.
 */
export { finetuneRef, type FinetuneRef } from "./refs.js";
export type { FinetuneJobRecord, FinetuneRunRecord, FinetuneRunDetail, FinetuneRunSpec, RunCheckpointRecord } from "./records.js";
export { describeSupportModels, hyperParameterTable, maxSeqLenChoices, supportModelEntry } from "./support-models.js";
export { validateHyperParameters, type ResolvedHyperParameters, type HyperParameterContext, type ValidateHyperParametersOptions } from "./validate-hyper-parameters.js";
export { resolveParameterScale } from "./parameter-scale.js";
export { createJob, type CreateJobInput } from "./create-job.js";
export { describeJob } from "./describe-job.js";
export { listJobs, type FinetuneJobListItem, type ListJobsFilter } from "./list-jobs.js";
export { deleteJob } from "./delete-job.js";
export { createRun, type CreateRunInput, type CreateRunFields, type RunDatasetInput, type IncrementInput } from "./create-run.js";
export { describeRun, runOrdinal, type FinetuneRunScope } from "./describe-run.js";
export { listRuns } from "./list-runs.js";
export { stopRun, type StopRunResult } from "./stop-run.js";
export { deleteRun } from "./delete-run.js";
export { prepareRunData, prepareSpecData, tokenCacheKey, type PrepareRunDataInput, type PreparedRunData } from "./prepare-data.js";
export { runMetrics, METRICS_PAGE, type RunMetricPoint, type RunMetricsPage } from "./run-metrics.js";
export { quoteRun, type FinetuneQuote } from "./quote.js";
