/**
 * What Sailfin understands of a Hugging Face `config.json`: the two decoder families its
 * runtime trains (Llama and Qwen2, parameter names as in `transformers`), and the exact tensor
 * names and shapes such a config implies. Anything else is refused at import, with the field
 * named, rather than failing hours later inside a training run.
 */

type ModelFamily = "llama" | "qwen2";

const ARCHITECTURES: Record<string, ModelFamily> = {
  LlamaForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
};
const ARCHITECTURE_OF: Record<ModelFamily, string> = { llama: "LlamaForCausalLM", qwen2: "Qwen2ForCausalLM" };

export interface ModelConfig {
  readonly family: ModelFamily;
  /** `LlamaForCausalLM` or `Qwen2ForCausalLM`. */
  readonly architecture: string;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly tieWordEmbeddings: boolean;
  /** q/k/v/o biases (Llama `attention_bias`); Qwen2 always has q/k/v biases and no o bias. */
  readonly attentionBias: boolean;
  readonly mlpBias: boolean;
}

/** A problem in config.json; the message names the field. */
export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelConfigError";
  }
}

/** Parses a config.json object; throws ModelConfigError naming the offending field. */
export function parseModelConfig(json: unknown): ModelConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ModelConfigError("is not a JSON object");
  const c = json as Record<string, unknown>;
  const family = familyOf(c);
  const positive = (key: string): number => {
    const v = c[key];
    if (v === undefined || v === null) throw new ModelConfigError(`${key} is required`);
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new ModelConfigError(`${key} must be a positive integer`);
    return v;
  };
  const optionalPositive = (key: string, fallback: number): number => (c[key] === undefined || c[key] === null ? fallback : positive(key));
  const flag = (key: string, fallback: boolean): boolean => {
    const v = c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") throw new ModelConfigError(`${key} must be true or false`);
    return v;
  };
  const hiddenSize = positive("hidden_size");
  const numHeads = positive("num_attention_heads");
  const numKvHeads = optionalPositive("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelConfigError(`num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  if (c.head_dim === undefined && hiddenSize % numHeads !== 0) {
    throw new ModelConfigError(`hidden_size (${hiddenSize}) must be a multiple of num_attention_heads (${numHeads})`);
  }
  const headDim = optionalPositive("head_dim", hiddenSize / numHeads);
  return {
    family,
    architecture: ARCHITECTURE_OF[family],
    hiddenSize,
    intermediateSize: positive("intermediate_size"),
    numLayers: positive("num_hidden_layers"),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: positive("vocab_size"),
    maxPositionEmbeddings: positive("max_position_embeddings"),
    // Both LlamaConfig and Qwen2Config default tie_word_embeddings to false.
    tieWordEmbeddings: flag("tie_word_embeddings", false),
    attentionBias: family === "llama" ? flag("attention_bias", false) : false,
    mlpBias: family === "llama" ? flag("mlp_bias", false) : false,
  };
}

function familyOf(c: Record<string, unknown>): ModelFamily {
  const { architectures, model_type: modelType } = c;
  let fromArch: ModelFamily | undefined;
  if (architectures !== undefined && architectures !== null) {
    if (!Array.isArray(architectures) || architectures.length === 0 || !architectures.every((a) => typeof a === "string")) {
      throw new ModelConfigError("architectures must be a non-empty list of strings");
    }
    const known = (architectures as string[]).filter((a) => Object.hasOwn(ARCHITECTURES, a));
    if (known.length === 0) {
      throw new ModelConfigError(
        `architectures ${JSON.stringify(architectures)} is not supported (Sailfin supports LlamaForCausalLM and Qwen2ForCausalLM)`,
      );
    }
    fromArch = ARCHITECTURES[known[0]!];
  }
  if (modelType !== undefined && modelType !== null) {
    if (modelType !== "llama" && modelType !== "qwen2") {
      throw new ModelConfigError(`model_type ${JSON.stringify(modelType)} is not supported (Sailfin supports llama and qwen2)`);
    }
    if (fromArch !== undefined && fromArch !== modelType) {
      throw new ModelConfigError(`model_type "${modelType}" contradicts architectures (${ARCHITECTURE_OF[fromArch]})`);
    }
    return modelType;
  }
  if (fromArch === undefined) throw new ModelConfigError("architectures or model_type is required");
  return fromArch;
}

/** Tensor names that some checkpoints carry as buffers and loaders ignore. */
export function isIgnorableTensor(name: string): boolean {
  return name.endsWith(".rotary_emb.inv_freq");
}

/** Every parameter the config implies, by Hugging Face name, with its shape. */
export function expectedTensors(cfg: ModelConfig): Map<string, number[]> {
  const h = cfg.hiddenSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const i = cfg.intermediateSize;
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [cfg.vocabSize, h]);
  const qkvBias = cfg.family === "qwen2" || cfg.attentionBias;
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `model.layers.${l}`;
    out.set(`${p}.self_attn.q_proj.weight`, [q, h]);
    out.set(`${p}.self_attn.k_proj.weight`, [kv, h]);
    out.set(`${p}.self_attn.v_proj.weight`, [kv, h]);
    out.set(`${p}.self_attn.o_proj.weight`, [h, q]);
    if (qkvBias) {
      out.set(`${p}.self_attn.q_proj.bias`, [q]);
      out.set(`${p}.self_attn.k_proj.bias`, [kv]);
      out.set(`${p}.self_attn.v_proj.bias`, [kv]);
    }
    if (cfg.attentionBias) out.set(`${p}.self_attn.o_proj.bias`, [h]);
    out.set(`${p}.mlp.gate_proj.weight`, [i, h]);
    out.set(`${p}.mlp.up_proj.weight`, [i, h]);
    out.set(`${p}.mlp.down_proj.weight`, [h, i]);
    if (cfg.mlpBias) {
      out.set(`${p}.mlp.gate_proj.bias`, [i]);
      out.set(`${p}.mlp.up_proj.bias`, [i]);
      out.set(`${p}.mlp.down_proj.bias`, [h]);
    }
    out.set(`${p}.input_layernorm.weight`, [h]);
    out.set(`${p}.post_attention_layernorm.weight`, [h]);
  }
  out.set("model.norm.weight", [h]);
  if (!cfg.tieWordEmbeddings) out.set("lm_head.weight", [cfg.vocabSize, h]);
  return out;
}
