/**
 * The model repository: model sets (V2 "model set" `am-…`, V1 "model") and their versions
 * (`amv-…`), Hugging Face folder imports with their checks, publishing a run's checkpoint, base
 * models for fine-tuning, and the tiny random model for demos and tests. Only what the routes,
 * the CLI, the fine-tuning module and tests need is exported.
 */
export { parseSafetensorsHeader, readSafetensorsHeader, SafetensorsError, DTYPE_BYTES, type SafetensorsHeader, type TensorInfo } from "./safetensors.js";
export { encodeSafetensors, f32Bytes, bf16Bytes, type TensorData } from "./safetensors-writer.js";
export { parseModelConfig, expectedTensors, ModelConfigError, type ModelConfig, type ModelFamily } from "./model-config.js";
export { checkModelFiles, ModelCheckError, type ModelSummary, type ModelCheckResult } from "./check-model-files.js";
export { findVersionPublishedFrom, lockModelVersions, versionFolder, type IdRef } from "./model-rows.js";
export { parseConfigSummary } from "./config-summary.js";
export { createModelSet, MODEL_SET_TYPES, type ModelSetType, type CreateModelSetInput } from "./create-model-set.js";
export { importModelVersion, executeModelImport, type ImportModelVersionInput, type ModelImportSpec } from "./import-model-version.js";
export { publishFromRun, settlePublishedVersion, type PublishFromRunInput, type PublishedVersion, type PublishRunSpec } from "./publish-from-run.js";
export type { ModelSetRecord, ModelVersionRecord } from "./records.js";
export {
  describeModelVersion, describeModelVersions, describeModelSet, findModelSet, findModelSetByName, findModelVersion,
  listModelSets, listModelSetsV1, modelSetCreator,
  V1_MAX_PAGE_SIZE, V1_MAX_PAGE_DEPTH,
  type Lineage, type ModelVersionView, type ModelSetView, type ModelSetListItem, type V1ListRequest, type V1ListItem,
} from "./describe.js";
export { deleteModelVersions, deleteModelSets } from "./delete.js";
export { resolveBaseModel, listBaseModels, type ResolvedBaseModel, type ResolvedBaseModelConfig } from "./base-models.js";
export { byteLevelTokenizer, CHATML_TEMPLATE, type ByteLevelTokenizerFiles } from "./byte-level-tokenizer.js";
export { writeTinyModel, type TinyModelOptions, type TinyModelInfo } from "./tiny-model.js";
