import type { Readable } from "node:stream";
import { Tokenizer } from "@huggingface/tokenizers";
import type { ArtifactStore, ObjectInfo } from "../artifacts/artifact-store.js";
import { ModelConfigError, expectedTensors, isIgnorableTensor, parseModelConfig, type ModelConfig } from "./model-config.js";
import { SafetensorsError, readSafetensorsHeader, type TensorInfo } from "./safetensors.js";

/**
 * The checks an imported Hugging Face folder must pass before it becomes a `Ready` model
 * version: config.json describes a supported decoder, the safetensors headers are sound and hold
 * exactly the tensors (names and shapes) that config implies, and tokenizer.json loads and
 * encodes within the model's vocabulary. Only headers and small JSON files are read.
 */

/** The parsed config fields a summary keeps, as parseModelConfig read them. */
const SUMMARY_CONFIG_FIELDS = [
  "architecture", "hiddenSize", "intermediateSize", "numLayers", "numHeads", "numKvHeads", "headDim", "vocabSize",
  "maxPositionEmbeddings", "tieWordEmbeddings", "slidingWindow", "ropeScaling",
] as const;

/** What we record about a checked model (model_versions.config_summary; read back by parseConfigSummary). */
export interface ModelSummary extends Pick<ModelConfig, (typeof SUMMARY_CONFIG_FIELDS)[number]> {
  /** The family (`model_type`), one of MODEL_FAMILIES. */
  readonly modelType: string;
  readonly hasChatTemplate: boolean;
  /** The weights' dtype (the most common one when mixed). */
  readonly dtype: string;
  readonly parameterCount: number;
}

interface ModelCheckResult {
  readonly summary: ModelSummary;
  /** Sum of the sizes of every file in the folder. */
  readonly totalBytes: number;
}

/** A failed check: `file` is the file at fault (or the folder), `problem` what is wrong with it. */
export class ModelCheckError extends Error {
  readonly file: string;
  readonly problem: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "ModelCheckError";
    this.file = file;
    this.problem = problem;
  }
}

const FLOAT_DTYPES = new Set(["F32", "F16", "BF16"]);
const MAX_CONFIG_BYTES = 1 << 20;
const MAX_TOKENIZER_BYTES = 64 << 20;
const MAX_TOKENIZER_CONFIG_BYTES = 16 << 20;
const MAX_INDEX_BYTES = 16 << 20;
/** Encoded at import: ASCII, punctuation and CJK, so a tokenizer without byte fallback shows itself. */
const TOKENIZER_SAMPLE = "Hello, world! 你好，世界。 12345";

/**
 * Checks the model files directly under `prefix` (a folder key ending in `/`; subfolders are not
 * part of the Hugging Face layout and are ignored). Throws ModelCheckError on the first problem.
 */
export async function checkModelFiles(store: ArtifactStore, prefix: string): Promise<ModelCheckResult> {
  const files = await listModelFolder(store, prefix);
  if (files.size === 0) throw new ModelCheckError("(folder)", "no files found");
  const totalBytes = [...files.values()].reduce((a, f) => a + f.size, 0);

  const config = await checkConfig(store, prefix, files);
  const { dtype, parameterCount } = await checkWeights(store, prefix, files, config);
  const hasChatTemplate = await checkTokenizer(store, prefix, files, config);
  return {
    totalBytes,
    summary: {
      ...(Object.fromEntries(SUMMARY_CONFIG_FIELDS.map((key) => [key, config[key]])) as Pick<ModelConfig, (typeof SUMMARY_CONFIG_FIELDS)[number]>),
      modelType: config.family,
      hasChatTemplate,
      dtype,
      parameterCount,
    },
  };
}

/** The files directly in a folder, by name. */
async function listModelFolder(store: ArtifactStore, prefix: string): Promise<Map<string, ObjectInfo>> {
  const out = new Map<string, ObjectInfo>();
  for (const info of await store.list(prefix)) {
    if (!info.key.startsWith(prefix)) continue;
    const name = info.key.slice(prefix.length);
    if (name !== "" && !name.includes("/")) out.set(name, info);
  }
  return out;
}

async function checkConfig(store: ArtifactStore, prefix: string, files: Map<string, ObjectInfo>): Promise<ModelConfig> {
  const json = await readJson(store, prefix, files, "config.json", MAX_CONFIG_BYTES);
  try {
    return parseModelConfig(json);
  } catch (error) {
    if (error instanceof ModelConfigError) throw new ModelCheckError("config.json", error.message);
    throw error;
  }
}

async function checkWeights(
  store: ArtifactStore, prefix: string, files: Map<string, ObjectInfo>, config: ModelConfig,
): Promise<{ dtype: string; parameterCount: number }> {
  const INDEX = "model.safetensors.index.json";
  let weightMap: Map<string, string> | null = null;
  let shardNames: string[];
  if (files.has(INDEX)) {
    weightMap = parseIndex(await readJson(store, prefix, files, INDEX, MAX_INDEX_BYTES));
    shardNames = [...new Set(weightMap.values())].sort();
    for (const shard of shardNames) {
      if (!files.has(shard)) throw new ModelCheckError(INDEX, `weight_map names ${shard}, which is not in the folder`);
    }
  } else {
    shardNames = [...files.keys()].filter((n) => n.endsWith(".safetensors")).sort();
  }
  if (shardNames.length === 0) {
    const hasBin = [...files.keys()].some((n) => n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth"));
    throw new ModelCheckError("(folder)", hasBin
      ? "only PyTorch pickle weights (.bin/.pt) found; Sailfin reads *.safetensors weights only"
      : "no *.safetensors weights found");
  }

  // Where each tensor lives, from the headers themselves.
  const found = new Map<string, { file: string; info: TensorInfo }>();
  for (const shard of shardNames) {
    const info = files.get(shard)!;
    let header;
    try {
      header = await readSafetensorsHeader(store, info.key, info.size);
    } catch (error) {
      if (error instanceof SafetensorsError) throw new ModelCheckError(shard, error.message);
      throw error;
    }
    for (const [name, tensor] of header.tensors) {
      const previous = found.get(name);
      if (previous !== undefined) throw new ModelCheckError(shard, `tensor ${name} is also in ${previous.file}`);
      found.set(name, { file: shard, info: tensor });
    }
  }
  if (weightMap !== null) {
    for (const [name, shard] of weightMap) {
      const at = found.get(name);
      if (at === undefined) throw new ModelCheckError(shard, `tensor ${name} is listed in ${INDEX} but missing from the file`);
      if (at.file !== shard) throw new ModelCheckError(INDEX, `tensor ${name} is mapped to ${shard} but stored in ${at.file}`);
    }
    for (const [name, at] of found) {
      if (!weightMap.has(name)) throw new ModelCheckError(at.file, `tensor ${name} is not listed in ${INDEX}`);
    }
  }

  const expected = expectedTensors(config);
  const where = shardNames.length === 1 ? shardNames[0]! : INDEX;
  let parameterCount = 0;
  const dtypes = new Map<string, number>();
  for (const [name, shape] of expected) {
    const at = found.get(name);
    if (at === undefined) throw new ModelCheckError(where, `tensor ${name} is missing (config.json implies ${JSON.stringify(shape)})`);
    checkTensor(name, at, shape);
    parameterCount += shape.reduce((a, b) => a * b, 1);
    dtypes.set(at.info.dtype, (dtypes.get(at.info.dtype) ?? 0) + 1);
  }
  for (const [name, at] of found) {
    if (expected.has(name) || isIgnorableTensor(name)) continue;
    // Tied checkpoints sometimes still store lm_head; accept it when it has the embedding's shape.
    if (name === "lm_head.weight" && config.tieWordEmbeddings) {
      checkTensor(name, at, [config.vocabSize, config.hiddenSize]);
      continue;
    }
    throw new ModelCheckError(at.file, `unexpected tensor ${name} (not part of a ${config.architecture} with this config.json)`);
  }
  const dtype = [...dtypes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  return { dtype, parameterCount };
}

function checkTensor(name: string, at: { file: string; info: TensorInfo }, shape: readonly number[]): void {
  if (!FLOAT_DTYPES.has(at.info.dtype)) {
    throw new ModelCheckError(at.file, `tensor ${name} has dtype ${at.info.dtype}; expected F32, F16 or BF16`);
  }
  if (at.info.shape.length !== shape.length || at.info.shape.some((d, i) => d !== shape[i])) {
    throw new ModelCheckError(
      at.file,
      `tensor ${name} has shape ${JSON.stringify(at.info.shape)}, but config.json implies ${JSON.stringify(shape)}`,
    );
  }
}

function parseIndex(json: unknown): Map<string, string> {
  const INDEX = "model.safetensors.index.json";
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    throw new ModelCheckError(INDEX, "weight_map must be an object of tensor name to file name");
  }
  const out = new Map<string, string>();
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== "string" || !/^[^/\\]+\.safetensors$/.test(file) || file.startsWith(".")) {
      throw new ModelCheckError(INDEX, `weight_map[${JSON.stringify(name)}] must be a *.safetensors file name in the same folder`);
    }
    out.set(name, file);
  }
  if (out.size === 0) throw new ModelCheckError(INDEX, "weight_map is empty");
  return out;
}

/** Loads tokenizer.json (+ tokenizer_config.json) and encodes a sample; returns chat template presence. */
async function checkTokenizer(
  store: ArtifactStore, prefix: string, files: Map<string, ObjectInfo>, config: ModelConfig,
): Promise<boolean> {
  const tokenizerJson = await readJson(store, prefix, files, "tokenizer.json", MAX_TOKENIZER_BYTES);
  const tokenizerConfig = files.has("tokenizer_config.json")
    ? await readJson(store, prefix, files, "tokenizer_config.json", MAX_TOKENIZER_CONFIG_BYTES)
    : {};
  if (typeof tokenizerConfig !== "object" || tokenizerConfig === null || Array.isArray(tokenizerConfig)) {
    throw new ModelCheckError("tokenizer_config.json", "is not a JSON object");
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson as object, tokenizerConfig as object);
  } catch (error) {
    throw new ModelCheckError("tokenizer.json", `cannot be loaded: ${(error as Error).message}`);
  }
  let ids: number[];
  try {
    ids = tokenizer.encode(TOKENIZER_SAMPLE, { add_special_tokens: false }).ids;
  } catch (error) {
    throw new ModelCheckError("tokenizer.json", `cannot encode a sample text: ${(error as Error).message}`);
  }
  if (ids.length === 0) throw new ModelCheckError("tokenizer.json", "encodes a sample text to no tokens");
  let maxId = Math.max(...ids);
  for (const id of tokenizer.get_vocab(true).values()) if (id > maxId) maxId = id;
  if (maxId >= config.vocabSize) {
    throw new ModelCheckError(
      "tokenizer.json",
      `token id ${maxId} is outside the model's vocab_size ${config.vocabSize} (config.json): the embedding has no row for it`,
    );
  }
  const template = (tokenizerConfig as { chat_template?: unknown }).chat_template;
  const templateInConfig = (typeof template === "string" && template.trim() !== "") || (Array.isArray(template) && template.length > 0);
  // Newer transformers save the template beside the config as chat_template.jinja.
  return templateInConfig || files.has("chat_template.jinja");
}

/** Reads and parses a small JSON file of the folder; a missing file is a check failure. */
async function readJson(
  store: ArtifactStore, prefix: string, files: Map<string, ObjectInfo>, name: string, limit: number,
): Promise<unknown> {
  const info = files.get(name);
  if (info === undefined) throw new ModelCheckError(name, "is missing");
  if (info.size > limit) throw new ModelCheckError(name, `is ${info.size} bytes, more than the ${limit} allowed`);
  const text = (await readAll(await store.get(prefix + name))).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ModelCheckError(name, `is not valid JSON (${(error as Error).message})`);
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
