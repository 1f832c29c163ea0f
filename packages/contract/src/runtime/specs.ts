import { z } from "zod";
import { SUPPORTED_PARAMETER_SCALES, TRAIN_MODES } from "../finetune.js";
import { RuntimeHyper } from "./hyper-parameters.js";

/**
 * The spec.json of each runtime recipe (docs/runtime-protocol.md): what the worker writes and
 * `runtime/sailfin_runtime/spec.py` reads. Optional fields carry the runtime's default; paths are
 * absolute (the runtime checks that, and that inputs exist). The JSON Schema files generated from
 * these (`runtime/sailfin_runtime/schema/`) are what the runtime takes its defaults and ranges from.
 */

const version = z.literal(1).describe("Protocol version; this runtime reads 1.");
const path = z.string().min(1).describe("An absolute path.");
const device = z.string().min(1).optional().meta({ default: "auto", description: "auto (CUDA when available), cpu, cuda, cuda:N." });

/** Training precisions the runtime knows (`auto`: bf16 on a GPU that has it, else fp32). */
export const RUNTIME_PRECISIONS = ["auto", "fp32", "bf16"] as const;
export type RuntimePrecision = (typeof RUNTIME_PRECISIONS)[number];

export const RuntimeFinetuneSpec = z.strictObject({
  version,
  runId: z.string().min(1).optional().meta({ default: "run" }),
  trainMode: z.enum(TRAIN_MODES),
  parameterScale: z.enum(SUPPORTED_PARAMETER_SCALES),
  modelDir: path,
  /** Incremental training starts from this checkpoint's weights, with a fresh optimizer. */
  initCheckpoint: path.nullable().optional(),
  data: z.strictObject({ train: path, validation: path.nullable().optional() }),
  outputDir: path,
  /** Continue this run exactly from one of its own checkpoints. */
  resumeFrom: path.nullable().optional(),
  hyper: RuntimeHyper.optional(),
  device,
  precision: z.enum(RUNTIME_PRECISIONS).optional().meta({ default: "auto" }),
});
export type RuntimeFinetuneSpec = z.infer<typeof RuntimeFinetuneSpec>;

export const RuntimeExportSpec = z.strictObject({
  version,
  modelDir: path,
  checkpoint: path,
  outputDir: path,
});
export type RuntimeExportSpec = z.infer<typeof RuntimeExportSpec>;

/** `scheme` defaults from `bits` (W8A16C16 for 8, W4A16C16 for 4) and must agree with it. */
const QUANTIZE_SCHEMES = ["W8A16C16", "W4A16C16", "INT8-PTQ"] as const;

export const RuntimeQuantizeSpec = z.strictObject({
  version,
  modelDir: path,
  outputDir: path,
  bits: z.literal([8, 4]),
  groupSize: z.int().min(2).optional().meta({ default: 128, description: "Used by 4 bits only." }),
  scheme: z.enum(QUANTIZE_SCHEMES).optional(),
  evalSplit: path.nullable().optional().meta({ description: "A token-shard split to measure perplexity on." }),
  evalMaxRows: z.int().min(1).optional().meta({ default: 64 }),
  device,
});
export type RuntimeQuantizeSpec = z.infer<typeof RuntimeQuantizeSpec>;

const tokenIds = z.array(z.int().min(0));

export const RuntimeGenerateSpec = z.strictObject({
  version,
  modelDir: path,
  promptsFile: path,
  outputFile: path,
  maxNewTokens: z.int().min(1).optional().meta({ default: 64 }),
  doSample: z.boolean().optional().meta({ default: false }),
  temperature: z.number().gt(0).max(100).optional().meta({ default: 1 }),
  topP: z.number().gt(0).max(1).optional().meta({ default: 1 }),
  topK: z.int().min(0).optional().meta({ default: 0, description: "0: off." }),
  repetitionPenalty: z.number().gt(0).max(100).optional().meta({ default: 1 }),
  eosTokenIds: tokenIds.nullable().optional().meta({ default: null, description: "null: the model's eos_token_id; []: none." }),
  stopSequences: z.array(tokenIds.min(1)).optional().meta({ default: [] }),
  batchSize: z.int().min(1).optional().meta({ default: 8 }),
  seed: z.int().min(0).optional().meta({ default: 0 }),
  device,
  dtype: z.enum(["auto", "float32", "bfloat16", "float16"]).optional().meta({ default: "auto" }),
});
export type RuntimeGenerateSpec = z.infer<typeof RuntimeGenerateSpec>;

/** One line of a `generate` prompts file: already templated and tokenized. */
export const GeneratePromptLine = z.object({ id: z.string(), ids: tokenIds.min(1) });
export type GeneratePromptLine = z.infer<typeof GeneratePromptLine>;

/** One line of a `generate` output file, in the prompts file's order. */
export const GenerateAnswerLine = z.strictObject({
  id: z.string(),
  /** Generated ids only, with the eos token or stop sequence that ended the row. */
  ids: tokenIds,
  finishReason: z.enum(["stop", "length"]),
  promptTokens: z.int().min(1),
});
export type GenerateAnswerLine = z.infer<typeof GenerateAnswerLine>;

/**
 * The `serve` recipe: an OpenAI-compatible HTTP engine (`/v1/completions` on token ids) that runs
 * until stopped; it emits `ready {url}` once it listens, never `done`.
 */
export const RuntimeServeSpec = z.strictObject({
  version,
  modelDir: path,
  /** The `model` the engine answers to. */
  servedModelName: z.string().min(1),
  host: z.string().min(1).optional().meta({ default: "127.0.0.1" }),
  port: z.int().min(0).max(65535).optional().meta({ default: 0, description: "0: any free port (the ready event says which)." }),
  apiKeyFile: path.nullable().optional().meta({ default: null, description: "A 0600 file holding the bearer secret; null: no auth." }),
  device,
  dtype: z.enum(["auto", "float32", "bfloat16", "float16"]).optional().meta({ default: "auto" }),
  maxBatchSize: z.int().min(1).optional().meta({ default: 8, description: "Requests decoded together (continuous batching)." }),
  maxModelLen: z.int().min(1).nullable().optional().meta({ default: null, description: "Prompt + new tokens cap; null: max_position_embeddings." }),
});
export type RuntimeServeSpec = z.infer<typeof RuntimeServeSpec>;

/** Each recipe's spec.json schema, by recipe name (the engine checks a spec against it before writing it). */
export const RUNTIME_SPECS = {
  finetune: RuntimeFinetuneSpec,
  export: RuntimeExportSpec,
  quantize: RuntimeQuantizeSpec,
  generate: RuntimeGenerateSpec,
  serve: RuntimeServeSpec,
} as const;
