/**
 * What Sailfin understands of a Hugging Face `config.json`: the dense decoder families its
 * runtime trains (parameter names, defaults and tensor names as in `transformers`), and the exact
 * tensor names and shapes such a config implies. Anything else is refused at import, with the
 * field named, rather than failing hours later inside a training run.
 */

export const MODEL_FAMILIES = ["llama", "qwen2", "qwen3", "ernie4_5", "mistral", "gemma2", "gemma3_text"] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** What differs between the families, read from each `transformers` config and modeling class. */
interface FamilySpec {
  readonly architecture: string;
  /** `head_dim` when config.json omits it (Qwen3Config and Ernie4_5Config default to 128); null: hidden_size / heads. */
  readonly defaultHeadDim: number | null;
  readonly defaultTied: boolean;
  /** Which linear layers carry biases, from the config. */
  readonly biases: (c: Record<string, unknown>, flag: FlagReader) => { qkv: boolean; o: boolean; mlp: boolean };
  /** Per-head RMSNorm on q and k (`self_attn.q_norm` / `k_norm`, shape [head_dim]). */
  readonly qkNorm: boolean;
  /** The MLP activation (`hidden_act`; Gemma reads `hidden_activation` first). */
  readonly activation: "silu" | "gelu_pytorch_tanh";
  /**
   * Attention windows: `none` (full causal only), `mistral` (one `sliding_window` for every
   * layer), `gemma` (`layer_types` mixes sliding and full layers; window 4096 when absent).
   */
  readonly windows: "none" | "mistral" | "gemma";
  /** Gemma's extra norms around the MLP (`pre_feedforward_layernorm`, `post_feedforward_layernorm`). */
  readonly feedforwardNorms: boolean;
}
type FlagReader = (key: string, fallback: boolean) => boolean;

const DENSE = { activation: "silu", windows: "none", feedforwardNorms: false } as const;
const GEMMA = { activation: "gelu_pytorch_tanh", windows: "gemma", feedforwardNorms: true } as const;
const attentionBias: FamilySpec["biases"] = (_, flag) => ({ qkv: flag("attention_bias", false), o: flag("attention_bias", false), mlp: false });

const FAMILIES: Record<ModelFamily, FamilySpec> = {
  llama: {
    architecture: "LlamaForCausalLM", defaultHeadDim: null, defaultTied: false, qkNorm: false, ...DENSE,
    biases: (_, flag) => ({ qkv: flag("attention_bias", false), o: flag("attention_bias", false), mlp: flag("mlp_bias", false) }),
  },
  // Qwen2 always has q/k/v biases and never an o bias (Qwen2Attention hard-codes them).
  qwen2: { architecture: "Qwen2ForCausalLM", defaultHeadDim: null, defaultTied: false, qkNorm: false, ...DENSE, biases: () => ({ qkv: true, o: false, mlp: false }) },
  qwen3: {
    architecture: "Qwen3ForCausalLM", defaultHeadDim: 128, defaultTied: false, qkNorm: true, ...DENSE, biases: attentionBias,
  },
  // Ernie4_5: one `use_bias` for every linear layer but lm_head.
  ernie4_5: {
    architecture: "Ernie4_5ForCausalLM", defaultHeadDim: 128, defaultTied: true, qkNorm: false, ...DENSE,
    biases: (_, flag) => {
      const b = flag("use_bias", false);
      return { qkv: b, o: b, mlp: b };
    },
  },
  mistral: {
    architecture: "MistralForCausalLM", defaultHeadDim: null, defaultTied: false, qkNorm: false, ...DENSE, windows: "mistral",
    biases: () => ({ qkv: false, o: false, mlp: false }),
  },
  // Gemma 2 and Gemma 3 (text-only, `gemma3_text`): sandwich norms, GELU, sliding layers among full ones.
  gemma2: { architecture: "Gemma2ForCausalLM", defaultHeadDim: 256, defaultTied: true, qkNorm: false, ...GEMMA, biases: attentionBias },
  gemma3_text: { architecture: "Gemma3ForCausalLM", defaultHeadDim: 256, defaultTied: true, qkNorm: true, ...GEMMA, biases: attentionBias },
};

const ARCHITECTURES = new Map(MODEL_FAMILIES.map((f) => [FAMILIES[f].architecture, f]));
const SUPPORTED_ARCHITECTURES = MODEL_FAMILIES.map((f) => FAMILIES[f].architecture).join(", ");
/** RoPE variants the runtime computes (runtime/sailfin_runtime/models/decoder.py, rope_inv_freq). */
const ROPE_TYPES = ["default", "linear", "llama3"];
/** MistralConfig's and the Gemma configs' default when config.json has no `sliding_window` key. */
const DEFAULT_WINDOW = 4096;

export interface ModelConfig {
  readonly family: ModelFamily;
  /** The family's `architectures` name, e.g. `Qwen3ForCausalLM`. */
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
  readonly qkvBias: boolean;
  readonly oBias: boolean;
  readonly mlpBias: boolean;
  readonly qkNorm: boolean;
  readonly feedforwardNorms: boolean;
  /** The attention window of sliding layers (every layer on Mistral, some on Gemma); null: full causal attention. */
  readonly slidingWindow: number | null;
  /** `rope_scaling` type (`linear`, `llama3`); null: plain RoPE. */
  readonly ropeScaling: string | null;
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
  refuseLookalikes(c);
  const family = familyOf(c);
  const spec = FAMILIES[family];
  const positive = (key: string): number => {
    const v = c[key];
    if (v === undefined || v === null) throw new ModelConfigError(`${key} is required`);
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new ModelConfigError(`${key} must be a positive integer`);
    return v;
  };
  const optionalPositive = (key: string, fallback: number): number => (c[key] === undefined || c[key] === null ? fallback : positive(key));
  const flag: FlagReader = (key, fallback) => {
    const v = c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") throw new ModelConfigError(`${key} must be true or false`);
    return v;
  };
  // Gemma's modules read `hidden_activation`; its published configs carry `hidden_act` too.
  const actKey = spec.activation === "gelu_pytorch_tanh" && c.hidden_activation !== undefined && c.hidden_activation !== null ? "hidden_activation" : "hidden_act";
  if (c[actKey] !== undefined && c[actKey] !== null && c[actKey] !== spec.activation) {
    throw new ModelConfigError(`${actKey} ${JSON.stringify(c[actKey])} is not supported (${spec.activation} for ${family})`);
  }
  if (flag("use_bidirectional_attention", false)) throw new ModelConfigError("use_bidirectional_attention: true is not supported (causal decoders only)");
  if (c.quantization_config !== undefined && c.quantization_config !== null) {
    throw new ModelConfigError("quantization_config: pre-quantized checkpoints are not supported (import the bf16/fp16/fp32 weights)");
  }
  if ((family === "qwen2" || family === "qwen3") && flag("use_sliding_window", false)) {
    throw new ModelConfigError("use_sliding_window: true is not supported (Qwen sliding-window layers; Sailfin trains full attention)");
  }
  const hiddenSize = positive("hidden_size");
  const numHeads = positive("num_attention_heads");
  const numKvHeads = optionalPositive("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelConfigError(`num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  // An explicit `"head_dim": null` means hidden_size / heads in every family; only a missing key takes the family's default.
  const headDimDefault = c.head_dim === undefined ? spec.defaultHeadDim : null;
  if ((c.head_dim === undefined || c.head_dim === null) && headDimDefault === null && hiddenSize % numHeads !== 0) {
    throw new ModelConfigError(`hidden_size (${hiddenSize}) must be a multiple of num_attention_heads (${numHeads})`);
  }
  const headDim = optionalPositive("head_dim", headDimDefault ?? hiddenSize / numHeads);
  const biases = spec.biases(c, flag);
  checkLayerTypes(c, spec.windows === "gemma", positive("num_hidden_layers"));
  return {
    family,
    architecture: spec.architecture,
    hiddenSize,
    intermediateSize: positive("intermediate_size"),
    numLayers: positive("num_hidden_layers"),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: positive("vocab_size"),
    maxPositionEmbeddings: positive("max_position_embeddings"),
    tieWordEmbeddings: flag("tie_word_embeddings", spec.defaultTied),
    qkvBias: biases.qkv,
    oBias: biases.o,
    mlpBias: biases.mlp,
    qkNorm: spec.qkNorm,
    feedforwardNorms: spec.feedforwardNorms,
    slidingWindow: spec.windows === "none" ? null : c.sliding_window === undefined ? DEFAULT_WINDOW : c.sliding_window === null ? null : positive("sliding_window"),
    ropeScaling: ropeScalingOf(c),
  };
}

/**
 * Checkpoints that share names with supported ones but are something else: mixture-of-experts
 * (ERNIE 4.5 MoE, Qwen MoE, Mixtral) and Gemma 3's image-text model; say so plainly.
 */
function refuseLookalikes(c: Record<string, unknown>): void {
  const modelType = typeof c.model_type === "string" ? c.model_type : "";
  const archs = Array.isArray(c.architectures) ? c.architectures.filter((a): a is string => typeof a === "string") : [];
  const moeArch = archs.find((a) => /moe|mixtral/i.test(a));
  if (modelType === "gemma3" || archs.includes("Gemma3ForConditionalGeneration")) {
    throw new ModelConfigError(`model_type "gemma3" (image-text) is not supported: import the text-only checkpoint (model_type gemma3_text, Gemma3ForCausalLM)`);
  }
  if (/moe|mixtral/i.test(modelType)) throw new ModelConfigError(`model_type ${JSON.stringify(modelType)}: MoE models are not supported (dense decoders only)`);
  if (moeArch !== undefined) throw new ModelConfigError(`architectures ${JSON.stringify(archs)}: MoE models are not supported (dense decoders only)`);
  for (const key of ["num_experts", "moe_num_experts", "num_local_experts"]) {
    const v = c[key];
    if (v !== undefined && v !== null && v !== 0) throw new ModelConfigError(`${key}: MoE models are not supported (dense decoders only)`);
  }
}

/**
 * `layer_types` (transformers ≥ 4.54 writes it): only full-attention layers, except on Gemma,
 * whose layers are sliding or full (and whose list, when given, has one entry a layer).
 */
function checkLayerTypes(c: Record<string, unknown>, gemma: boolean, numLayers: number): void {
  const types = c.layer_types;
  if (types === undefined || types === null) return;
  if (!Array.isArray(types)) throw new ModelConfigError("layer_types must be a list of strings");
  const allowed = gemma ? ["full_attention", "sliding_attention"] : ["full_attention"];
  const other = types.find((t) => !allowed.includes(t as string));
  if (other !== undefined) throw new ModelConfigError(`layer_types ${JSON.stringify(other)} is not supported (${allowed.join(" or ")} layers only)`);
  if (gemma && types.length !== numLayers) throw new ModelConfigError(`layer_types has ${types.length} entries, but num_hidden_layers is ${numLayers}`);
}

/**
 * `rope_scaling` (or transformers 5's `rope_parameters`, which Gemma 3 nests per layer kind:
 * `{ full_attention: {...}, sliding_attention: {...} }`): a type the runtime computes, with its
 * fields. Returns the scaled type (the full-attention layers' on Gemma 3), null for plain RoPE.
 */
function ropeScalingOf(c: Record<string, unknown>): string | null {
  const key = c.rope_scaling !== undefined && c.rope_scaling !== null ? "rope_scaling" : "rope_parameters";
  const scaling = c[key];
  if (scaling === undefined || scaling === null) return null;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(scaling)) throw new ModelConfigError(`${key} must be an object or null`);
  const nested = ["full_attention", "sliding_attention"].filter((k) => isObject(scaling[k]));
  const parts: Array<[string, Record<string, unknown>]> = nested.length > 0
    ? nested.map((k) => [`${key}.${k}`, scaling[k] as Record<string, unknown>])
    : [[key, scaling]];
  const kinds = parts.map(([where, s]) => {
    const kind = s.rope_type ?? s.type ?? "default";
    if (typeof kind !== "string" || !ROPE_TYPES.includes(kind)) {
      throw new ModelConfigError(`${where} type ${JSON.stringify(kind)} is not supported (${ROPE_TYPES.join(", ")})`);
    }
    const needs = kind === "linear" ? ["factor"] : kind === "llama3" ? ["factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"] : [];
    for (const field of needs) {
      if (typeof s[field] !== "number" || !((s[field] as number) > 0)) throw new ModelConfigError(`${where}.${field} must be a positive number for type ${kind}`);
    }
    return kind;
  });
  return kinds.find((k) => k !== "default") ?? null;
}

function familyOf(c: Record<string, unknown>): ModelFamily {
  const { architectures, model_type: modelType } = c;
  let fromArch: ModelFamily | undefined;
  if (architectures !== undefined && architectures !== null) {
    if (!Array.isArray(architectures) || architectures.length === 0 || !architectures.every((a) => typeof a === "string")) {
      throw new ModelConfigError("architectures must be a non-empty list of strings");
    }
    const known = (architectures as string[]).find((a) => ARCHITECTURES.has(a));
    if (known === undefined) {
      throw new ModelConfigError(`architectures ${JSON.stringify(architectures)} is not supported (Sailfin supports ${SUPPORTED_ARCHITECTURES})`);
    }
    fromArch = ARCHITECTURES.get(known);
  }
  if (modelType !== undefined && modelType !== null) {
    if (typeof modelType !== "string" || !(MODEL_FAMILIES as readonly string[]).includes(modelType)) {
      throw new ModelConfigError(`model_type ${JSON.stringify(modelType)} is not supported (Sailfin supports ${MODEL_FAMILIES.join(", ")})`);
    }
    if (fromArch !== undefined && fromArch !== modelType) {
      throw new ModelConfigError(`model_type "${modelType}" contradicts architectures (${FAMILIES[fromArch].architecture})`);
    }
    return modelType as ModelFamily;
  }
  if (fromArch === undefined) throw new ModelConfigError("architectures or model_type is required");
  return fromArch;
}

/** The `architectures` name of a family. */
export function architectureOf(family: ModelFamily): string {
  return FAMILIES[family].architecture;
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
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `model.layers.${l}`;
    out.set(`${p}.self_attn.q_proj.weight`, [q, h]);
    out.set(`${p}.self_attn.k_proj.weight`, [kv, h]);
    out.set(`${p}.self_attn.v_proj.weight`, [kv, h]);
    out.set(`${p}.self_attn.o_proj.weight`, [h, q]);
    if (cfg.qkvBias) {
      out.set(`${p}.self_attn.q_proj.bias`, [q]);
      out.set(`${p}.self_attn.k_proj.bias`, [kv]);
      out.set(`${p}.self_attn.v_proj.bias`, [kv]);
    }
    if (cfg.oBias) out.set(`${p}.self_attn.o_proj.bias`, [h]);
    if (cfg.qkNorm) {
      out.set(`${p}.self_attn.q_norm.weight`, [cfg.headDim]);
      out.set(`${p}.self_attn.k_norm.weight`, [cfg.headDim]);
    }
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
    if (cfg.feedforwardNorms) {
      out.set(`${p}.pre_feedforward_layernorm.weight`, [h]);
      out.set(`${p}.post_feedforward_layernorm.weight`, [h]);
    }
  }
  out.set("model.norm.weight", [h]);
  if (!cfg.tieWordEmbeddings) out.set("lm_head.weight", [cfg.vocabSize, h]);
  return out;
}
