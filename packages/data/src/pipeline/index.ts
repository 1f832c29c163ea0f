export { ChatRenderer, DEFAULT_CHAT_TEMPLATE, type ChatMessage, type ChatPiece, type ChatRendererOptions } from "./chat-template.js";
export { PipelineInputError } from "./errors.js";
export { SplitWriter, type ShardKind, type SplitManifest, type SplitName, type SplitWriterOptions } from "./pack.js";
export { PIPELINE_VERSION, countTokens, prepareTrainingData, type CountTokensOptions, type PrepareDatasetInput, type PrepareOptions, type PrepareProgress, type PreparedData } from "./prepare.js";
export { SampleBuilder, conversation, formatFitsTrainMode, preferenceOf, recordTexts, textOf, type PreferencePair, type SampleBuilderOptions, type TokenSample } from "./samples.js";
export type { ShardInfo } from "./shard-files.js";
export { copies, isValidation, unitHash } from "./split.js";
export { loadTokenizer, type LoadedTokenizer } from "./tokenize.js";
export { BPE_SPECIAL_TOKENS, GPT2_PRETOKENIZE, bpeTokenizerJson, bytesToUnicode, trainByteLevelBpe, type TrainBpeOptions, type TrainedBpe } from "./train-bpe.js";
