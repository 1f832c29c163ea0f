/**
 * OpenAI's fine-tuning dialect (issue 16) over the same rows: files (`file-…`), jobs (`ftjob-…`,
 * a V2 job and its one task) and the `ft:` models their success publishes. One export per line:
 * several slices add lines here.
 */
export { createFineTuningJob } from "./create-job.js";
export { retrieveFineTuningJob, listFineTuningJobs } from "./read-jobs.js";
export { cancelFineTuningJob } from "./stop-job.js";
export { listFineTuningJobEvents } from "./job-events.js";
export { listFineTuningJobCheckpoints } from "./job-checkpoints.js";
export { resolveFineTunedModel, listFineTunedModels } from "./fine-tuned-models.js";
export { autoEpochs } from "./resolve-method.js";
export { FINE_TUNING_JOB_KIND } from "./job-endings.js";
export * from "./files.js";
export * from "./upload-file.js";
export * from "./training-lines.js";
export { pauseFineTuningJob, resumeFineTuningJob } from "./pause-job.js";
export { onDemandSuffix, type OnDemandPolicy } from "./on-demand-serving.js";
export { IdleServiceSweeper } from "./idle-services.js";
export { openAiChatTarget, listOpenAiModels, describeOpenAiModel, deleteOpenAiModel, type FineTunedModel, type FineTunedModels, type OpenAiModel } from "./openai-models.js";
