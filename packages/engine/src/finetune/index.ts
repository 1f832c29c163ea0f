/**
 * Fine-tuning (V2 jobs and tasks, V1 tasks and jobs) in one internal vocabulary: a *job* is the
 * container, a *run* one execution. Only what the routes and later modules need is exported.
 */
export { finetuneRef } from "./refs.js";
export type { FinetuneRunDetail } from "./records.js";
export { describeSupportModels } from "./support-models.js";
export { createJob } from "./create-job.js";
export { describeJob } from "./describe-job.js";
export { listJobs, type FinetuneJobListItem } from "./list-jobs.js";
export { deleteJob } from "./delete-job.js";
export { createRun, type CreateRunInput, type RunDatasetInput } from "./create-run.js";
export { describeRun, runOrdinal } from "./describe-run.js";
export { listRuns } from "./list-runs.js";
export { stopRun } from "./stop-run.js";
export { pauseRun, resumeRun } from "./pause-run.js";
export { deleteRun } from "./delete-run.js";
export { runMetrics } from "./run-metrics.js";
export { quoteRun } from "./quote.js";
