/** OpenAI's fine-tuning dialect (issue 16): files, jobs, and using the models they make. */
export { onDemandSuffix, type OnDemandPolicy } from "./on-demand-serving.js";
export { IdleServiceSweeper } from "./idle-services.js";
export { openAiChatTarget, listOpenAiModels, describeOpenAiModel, deleteOpenAiModel, type FineTunedModel, type FineTunedModels, type OpenAiModel } from "./openai-models.js";
