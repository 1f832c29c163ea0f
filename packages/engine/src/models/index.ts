/**
 * The model repository: model sets (V2 "model set" `am-…`, V1 "model") and their versions
 * (`amv-…`), Hugging Face folder imports with their checks, publishing a run's checkpoint, base
 * models for fine-tuning, and the tiny random model for demos and tests. Only what the routes,
 * the CLI, the fine-tuning module and tests need is exported.
 */
export { findVersionPublishedFrom, lockModelVersions } from "./model-rows.js";
export { createModelSet } from "./create-model-set.js";
export { importModelVersion } from "./import-model-version.js";
export { publishFromRun, type PublishRunSpec } from "./publish-from-run.js";
export type { ModelSetRecord, ModelVersionRecord } from "./records.js";
export {
  describeModelVersion, describeModelVersions, describeModelSet, findModelSet, findModelSetByName, findModelVersion,
  listModelSets, listModelSetsV1, modelSetCreator, type ModelVersionView,
} from "./describe.js";
export { deleteModelVersions, deleteModelSets } from "./delete.js";
export { resolveBaseModel, listBaseModels, type ResolvedBaseModel, type ResolvedBaseModelConfig } from "./base-models.js";
export { writeTinyModel, type TinyModelOptions } from "./tiny-model.js";
export { MODEL_FAMILIES, type ModelFamily } from "./model-config.js";
