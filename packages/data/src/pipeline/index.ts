export { ChatRenderer, DEFAULT_CHAT_TEMPLATE, type ChatMessage } from "./chat-template.js";
export { PipelineInputError } from "./errors.js";
export { type SplitManifest } from "./pack.js";
export { PIPELINE_VERSION, countTokens, prepareTrainingData } from "./prepare.js";
export { recordTexts } from "./samples.js";
export { readDatasetTexts } from "./dataset-texts.js";
export { loadTokenizer, type LoadedTokenizer } from "./tokenize.js";
export { stopTokenIds } from "./stop-tokens.js";
export { BPE_SPECIAL_TOKENS, bpeTokenizerJson, bytesToUnicode, trainByteLevelBpe } from "./train-bpe.js";
