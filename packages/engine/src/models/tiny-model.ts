import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { trainByteLevelBpe } from "@sailfin/data";
import { byteLevelTokenizer } from "./byte-level-tokenizer.js";
import { MODEL_FAMILIES, architectureOf, expectedTensors, parseModelConfig, type ModelFamily } from "./model-config.js";
import { bf16Bytes, encodeSafetensors, f32Bytes, type TensorData } from "./safetensors-writer.js";

/**
 * A tiny, randomly initialised model of any supported family (Llama, Qwen2, Qwen3, ERNIE 4.5,
 * Mistral, Gemma 2, Gemma 3 text) in Hugging Face layout, with the config fields and tensor names `transformers` uses, written locally so
 * demos and tests never download anything. The weights are noise (it generates gibberish); the
 * point is a folder that every part of Sailfin — import checks, tokenization, the training
 * runtime — treats exactly like a real checkpoint.
 */
export interface TinyModelOptions {
  readonly architecture: ModelFamily;
  readonly hiddenSize?: number;
  readonly layers?: number;
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly intermediate?: number;
  /** Embedding rows; default: the tokenizer's size rounded up to a multiple of 32 (padded, like Qwen2). */
  readonly vocab?: number;
  readonly maxPositions?: number;
  /** Same seed, same bytes. */
  readonly seed?: number;
  readonly dtype?: "F32" | "BF16";
  /** Default: false for llama and mistral, true for the others (as their small checkpoints ship). */
  readonly tieWordEmbeddings?: boolean;
  /** Mistral's and Gemma's attention window (default 64, shorter than the context, so the window mask is exercised); null: none. */
  readonly slidingWindow?: number | null;
  /** Split the weights over this many files with a model.safetensors.index.json (default 1). */
  readonly shards?: number;
  /**
   * Texts to train a byte-level BPE tokenizer on (`trainByteLevelBpe`), so the vocabulary fits
   * the data the model will learn; default: the 256 bytes and a few merges.
   */
  readonly tokenizerTexts?: readonly string[];
  /** Target tokenizer size with `tokenizerTexts`, special tokens included (default 1024). */
  readonly tokenizerVocabSize?: number;
}

interface TinyModelInfo {
  readonly dir: string;
  readonly files: string[];
  readonly config: Record<string, unknown>;
  readonly parameterCount: number;
}

/**
 * Writes the tiny model into `dir` (created if needed): config.json, generation_config.json,
 * safetensors weights (+ index when sharded), tokenizer.json and tokenizer_config.json.
 *
 * @example await writeTinyModel("/tmp/tiny", { architecture: "qwen2", seed: 1 })
 */
export async function writeTinyModel(dir: string, options: TinyModelOptions): Promise<TinyModelInfo> {
  const family = options.architecture;
  if (!MODEL_FAMILIES.includes(family)) throw new Error(`architecture must be one of ${MODEL_FAMILIES.join(", ")}, not ${String(family)}`);
  const hiddenSize = options.hiddenSize ?? 64;
  const layers = options.layers ?? 2;
  const heads = options.heads ?? 4;
  const kvHeads = options.kvHeads ?? 2;
  const intermediate = options.intermediate ?? 128;
  const maxPositions = options.maxPositions ?? 512;
  const seed = options.seed ?? 0;
  const dtype = options.dtype ?? "F32";
  const tied = options.tieWordEmbeddings ?? !(family === "llama" || family === "mistral");
  const shards = options.shards ?? 1;
  if (hiddenSize % heads !== 0) throw new Error(`hiddenSize ${hiddenSize} must be a multiple of heads ${heads}`);
  if (heads % kvHeads !== 0) throw new Error(`heads ${heads} must be a multiple of kvHeads ${kvHeads}`);
  const tokenizer = options.tokenizerTexts === undefined
    ? byteLevelTokenizer(maxPositions)
    : byteLevelTokenizer(maxPositions, trainByteLevelBpe(options.tokenizerTexts, { vocabSize: options.tokenizerVocabSize ?? 1024 }));
  const vocab = options.vocab ?? Math.ceil(tokenizer.size / 32) * 32;
  if (vocab < tokenizer.size) throw new Error(`vocab ${vocab} is smaller than the tokenizer's ${tokenizer.size} tokens`);

  const config = configJson({
    family, hiddenSize, intermediate, layers, heads, kvHeads, vocab, maxPositions, tied,
    window: options.slidingWindow === undefined ? 64 : options.slidingWindow,
  }, dtype, tokenizer.ids);
  // The tensors are those the import check expects of this very config.json: one definition.
  const tensors: TensorData[] = [];
  let parameterCount = 0;
  for (const [name, shape] of expectedTensors(parseModelConfig(config))) {
    const values = initialValues(name, shape, seed, family.startsWith("gemma"));
    parameterCount += values.length;
    tensors.push({ name, dtype, shape, data: dtype === "F32" ? f32Bytes(values) : bf16Bytes(values) });
  }

  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, body: string | Buffer) => {
    await writeFile(join(dir, name), body);
    files.push(name);
  };
  await write("config.json", `${JSON.stringify(config, null, 2)}\n`);
  await write("generation_config.json", `${JSON.stringify({
    bos_token_id: tokenizer.ids.endOfText, eos_token_id: [tokenizer.ids.imEnd, tokenizer.ids.endOfText],
    pad_token_id: tokenizer.ids.endOfText, do_sample: false,
  }, null, 2)}\n`);
  if (shards <= 1) {
    await write("model.safetensors", encodeSafetensors(tensors));
  } else {
    const weightMap: Record<string, string> = {};
    const per = Math.ceil(tensors.length / shards);
    let totalSize = 0;
    for (let s = 0; s < shards; s++) {
      const part = tensors.slice(s * per, (s + 1) * per);
      const name = `model-${String(s + 1).padStart(5, "0")}-of-${String(shards).padStart(5, "0")}.safetensors`;
      for (const t of part) {
        weightMap[t.name] = name;
        totalSize += t.data.length;
      }
      await write(name, encodeSafetensors(part));
    }
    await write("model.safetensors.index.json", `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2)}\n`);
  }
  await write("tokenizer.json", JSON.stringify(tokenizer.tokenizerJson));
  await write("tokenizer_config.json", `${JSON.stringify(tokenizer.tokenizerConfig, null, 2)}\n`);
  return { dir, files, config, parameterCount };
}

interface TinyShape {
  readonly family: ModelFamily;
  readonly hiddenSize: number; readonly intermediate: number; readonly layers: number; readonly heads: number; readonly kvHeads: number;
  readonly vocab: number; readonly maxPositions: number; readonly tied: boolean;
  readonly window: number | null;
}

function configJson(t: TinyShape, dtype: string, ids: { endOfText: number; imEnd: number }): Record<string, unknown> {
  const headDim = t.hiddenSize / t.heads;
  const common = {
    architectures: [architectureOf(t.family)],
    model_type: t.family,
    hidden_size: t.hiddenSize,
    intermediate_size: t.intermediate,
    num_hidden_layers: t.layers,
    num_attention_heads: t.heads,
    num_key_value_heads: t.kvHeads,
    vocab_size: t.vocab,
    max_position_embeddings: t.maxPositions,
    hidden_act: "silu",
    initializer_range: 0.02,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: t.tied,
    torch_dtype: dtype === "F32" ? "float32" : "bfloat16",
    use_cache: true,
    bos_token_id: ids.endOfText,
    eos_token_id: ids.imEnd,
    attention_dropout: 0.0,
  };
  // Each family's own fields, as its transformers config class names them; head_dim is written
  // wherever the class's default is not hidden_size / heads (Qwen3, ERNIE 4.5, Gemma).
  // Gemma alternates sliding and full layers: Gemma 2 every other one, Gemma 3 five sliding to one full.
  const gemmaLayers = (every: number) => Array.from({ length: t.layers }, (_, i) => ((i + 1) % every === 0 ? "full_attention" : "sliding_attention"));
  const gemma = {
    ...common, hidden_act: "gelu_pytorch_tanh", hidden_activation: "gelu_pytorch_tanh", head_dim: headDim, query_pre_attn_scalar: headDim,
    sliding_window: t.window, attention_bias: false, pad_token_id: ids.endOfText,
  };
  switch (t.family) {
    case "llama":
      return { ...common, head_dim: headDim, rope_theta: 10000.0, rope_scaling: null, attention_bias: false, mlp_bias: false, pretraining_tp: 1 };
    case "qwen2":
      return { ...common, rope_theta: 1000000.0, use_sliding_window: false, sliding_window: t.maxPositions, max_window_layers: t.layers };
    case "qwen3":
      return {
        ...common, head_dim: headDim, rope_theta: 1000000.0, rope_scaling: null, attention_bias: false,
        use_sliding_window: false, sliding_window: null, max_window_layers: t.layers,
      };
    case "ernie4_5":
      return { ...common, head_dim: headDim, rope_theta: 500000.0, rms_norm_eps: 1e-5, use_bias: false, pad_token_id: ids.endOfText };
    case "mistral":
      return { ...common, head_dim: headDim, rope_theta: 1000000.0, sliding_window: t.window };
    case "gemma2":
      // Soft-capping left at Gemma2Config's defaults (50, 30): JSON would write 30.0 as 30, which its strict float fields refuse.
      return { ...gemma, rope_theta: 10000.0, layer_types: gemmaLayers(2) };
    case "gemma3_text":
      return {
        ...gemma, rope_theta: 1000000.0, rope_local_base_freq: 10000.0, rope_scaling: null, layer_types: gemmaLayers(6),
        attn_logit_softcapping: null, final_logit_softcapping: null,
      };
  }
}

/**
 * Norm weights are identity (ones; zeros on Gemma, whose norms scale by 1 + weight), biases
 * zeros, everything else N(0, 0.02²) from a per-tensor stream.
 */
function initialValues(name: string, shape: readonly number[], seed: number, offsetNorms: boolean): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  if (name.endsWith("norm.weight")) return out.fill(offsetNorms ? 0 : 1);
  if (name.endsWith(".bias")) return out;
  // Seeding each tensor from its name keeps a tensor's values independent of the others' order.
  const random = mulberry32(hashString(name) ^ Math.imul(seed | 0, 0x9e3779b1));
  for (let i = 0; i < count; i += 2) {
    // Box–Muller: two uniforms give two independent standard normals.
    const u1 = Math.max(random(), 1e-12);
    const u2 = random();
    const r = Math.sqrt(-2 * Math.log(u1)) * 0.02;
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** mulberry32: a small, fast, well-distributed 32-bit PRNG (deterministic across platforms). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the UTF-16 code units. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
