import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ModelConfigError, expectedTensors, parseModelConfig, type ModelConfig } from "./model-config.js";
import { parseConfigSummary } from "./config-summary.js";

/*
 * The config.json of one real checkpoint per family, as published (test data: nothing is
 * downloaded). The parameter counts below are what transformers 5.17 builds from the same
 * configs (AutoModelForCausalLM.from_config on the meta device, named_parameters), and the tensor
 * names and shapes were compared one by one with that model when this file was written.
 */
/** Qwen/Qwen3-0.6B config.json. */
const QWEN3_0_6B = {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072, "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3", "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936};
/** Qwen/Qwen2.5-0.5B config.json. */
const QWEN2_5_0_5B = {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.40.1", "use_cache": true, "use_mrope": false, "use_sliding_window": false, "vocab_size": 151936};
/** meta-llama/Llama-3.2-1B config.json. */
const LLAMA_3_2_1B = {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256};
/** baidu/ERNIE-4.5-0.3B-PT config.json. */
const ERNIE_4_5_0_3B = {"architectures": ["Ernie4_5ForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "intermediate_size": 3072, "max_position_embeddings": 131072, "model_type": "ernie4_5", "num_attention_heads": 16, "num_hidden_layers": 18, "num_key_value_heads": 2, "pad_token_id": 0, "rms_norm_eps": 1e-05, "rope_theta": 500000, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_bias": false, "use_cache": false, "vocab_size": 103424};
/** mistralai/Mistral-7B-v0.3 config.json. */
const MISTRAL_7B_V0_3 = {"architectures": ["MistralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "sliding_window": null, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.42.0.dev0", "use_cache": true, "vocab_size": 32768};
/** google/gemma-2-2b config.json. */
const GEMMA_2_2B = {"architectures": ["Gemma2ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "attn_logit_softcapping": 50.0, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1, "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 2304, "initializer_range": 0.02, "intermediate_size": 9216, "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 8, "num_hidden_layers": 26, "num_key_value_heads": 4, "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4096, "torch_dtype": "float32", "transformers_version": "4.42.4", "use_cache": true, "vocab_size": 256000};
/** google/gemma-3-1b-pt config.json. */
const GEMMA_3_1B = {"architectures": ["Gemma3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "attn_logit_softcapping": null, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1, "final_logit_softcapping": null, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 1152, "initializer_range": 0.02, "intermediate_size": 6912, "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4, "num_hidden_layers": 26, "num_key_value_heads": 1, "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000, "rope_scaling": null, "rope_theta": 1000000, "sliding_window": 512, "sliding_window_pattern": 6, "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0", "use_cache": true, "vocab_size": 262144};

const parameters = (cfg: ModelConfig) => [...expectedTensors(cfg).values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
const refused = (json: Record<string, unknown>, message: RegExp) =>
  assert.throws(() => parseModelConfig(json), (e: unknown) => e instanceof ModelConfigError && message.test(e.message));

describe("model config: the supported families at their real shapes", () => {
  const cases = [
    { name: "Qwen3-0.6B", json: QWEN3_0_6B, family: "qwen3", architecture: "Qwen3ForCausalLM", headDim: 128, tied: true, window: null, rope: null, params: 596_049_920 },
    { name: "Qwen2.5-0.5B", json: QWEN2_5_0_5B, family: "qwen2", architecture: "Qwen2ForCausalLM", headDim: 64, tied: true, window: null, rope: null, params: 494_032_768 },
    { name: "Llama-3.2-1B", json: LLAMA_3_2_1B, family: "llama", architecture: "LlamaForCausalLM", headDim: 64, tied: true, window: null, rope: "llama3", params: 1_235_814_400 },
    { name: "ERNIE-4.5-0.3B", json: ERNIE_4_5_0_3B, family: "ernie4_5", architecture: "Ernie4_5ForCausalLM", headDim: 128, tied: true, window: null, rope: null, params: 360_748_032 },
    { name: "Mistral-7B-v0.3", json: MISTRAL_7B_V0_3, family: "mistral", architecture: "MistralForCausalLM", headDim: 128, tied: false, window: null, rope: null, params: 7_248_023_552 },
    { name: "Gemma-2-2B", json: GEMMA_2_2B, family: "gemma2", architecture: "Gemma2ForCausalLM", headDim: 256, tied: true, window: 4096, rope: null, params: 2_614_341_888 },
    { name: "Gemma-3-1B", json: GEMMA_3_1B, family: "gemma3_text", architecture: "Gemma3ForCausalLM", headDim: 256, tied: true, window: 512, rope: null, params: 999_885_952 },
  ] as const;
  for (const c of cases) {
    test(`${c.name} parses, and implies transformers' exact parameter count`, () => {
      const cfg = parseModelConfig(c.json);
      assert.equal(cfg.family, c.family);
      assert.equal(cfg.architecture, c.architecture);
      assert.equal(cfg.headDim, c.headDim);
      assert.equal(cfg.tieWordEmbeddings, c.tied);
      assert.equal(cfg.slidingWindow, c.window);
      assert.equal(cfg.ropeScaling, c.rope);
      assert.equal(parameters(cfg), c.params);
      assert.equal(expectedTensors(cfg).has("lm_head.weight"), !c.tied);
    });
  }

  test("each family's layer has its own tensors: Qwen3's q/k norms, Qwen2's q/k/v biases, none on the others", () => {
    const layer = (json: Record<string, unknown>) => [...expectedTensors(parseModelConfig(json)).entries()]
      .filter(([n]) => n.startsWith("model.layers.0.self_attn.")).map(([n, s]) => `${n.slice("model.layers.0.self_attn.".length)} ${s.join("x")}`);
    assert.deepEqual(layer(QWEN3_0_6B), [
      "q_proj.weight 2048x1024", "k_proj.weight 1024x1024", "v_proj.weight 1024x1024", "o_proj.weight 1024x2048", "q_norm.weight 128", "k_norm.weight 128",
    ]);
    assert.deepEqual(layer(QWEN2_5_0_5B), [
      "q_proj.weight 896x896", "k_proj.weight 128x896", "v_proj.weight 128x896", "o_proj.weight 896x896", "q_proj.bias 896", "k_proj.bias 128", "v_proj.bias 128",
    ]);
    assert.deepEqual(layer(ERNIE_4_5_0_3B), ["q_proj.weight 2048x1024", "k_proj.weight 256x1024", "v_proj.weight 256x1024", "o_proj.weight 1024x2048"]);
    assert.equal(layer(MISTRAL_7B_V0_3).length, 4);
    assert.deepEqual(layer(GEMMA_3_1B).slice(4), ["q_norm.weight 256", "k_norm.weight 256"]);
    // Gemma's sandwich norms around the MLP.
    const gemma2 = [...expectedTensors(parseModelConfig(GEMMA_2_2B)).keys()].filter((n) => n.startsWith("model.layers.0.") && n.endsWith("layernorm.weight"));
    assert.deepEqual(gemma2.map((n) => n.split(".")[3]), ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"]);
  });

  test("ERNIE's use_bias puts a bias on every linear layer but lm_head; Qwen3's attention_bias on q/k/v/o", () => {
    const ernie = expectedTensors(parseModelConfig({ ...ERNIE_4_5_0_3B, use_bias: true }));
    for (const n of ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]) {
      assert.ok(ernie.has(`model.layers.17.${n}.bias`), n);
    }
    assert.equal(parameters(parseModelConfig({ ...ERNIE_4_5_0_3B, use_bias: true, num_hidden_layers: 1, vocab_size: 64 })), 14_235_136);
    const qwen3 = expectedTensors(parseModelConfig({ ...QWEN3_0_6B, attention_bias: true }));
    assert.deepEqual(qwen3.get("model.layers.0.self_attn.o_proj.bias"), [1024]);
    assert.equal(qwen3.has("model.layers.0.mlp.up_proj.bias"), false);
  });

  test("head_dim and tie_word_embeddings take each config class's default when config.json omits them", () => {
    const without = (json: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(json).filter(([k]) => !keys.includes(k)));
    // Qwen3Config and Ernie4_5Config default head_dim to 128, not hidden_size / heads.
    assert.equal(parseModelConfig({ ...without(QWEN3_0_6B, "head_dim"), hidden_size: 512 }).headDim, 128);
    assert.equal(parseModelConfig({ ...without(ERNIE_4_5_0_3B, "head_dim"), hidden_size: 512 }).headDim, 128);
    assert.equal(parseModelConfig({ ...ERNIE_4_5_0_3B, head_dim: null, hidden_size: 512 }).headDim, 32);
    assert.equal(parseModelConfig(without(LLAMA_3_2_1B, "head_dim")).headDim, 64);
    assert.equal(parseModelConfig(without(ERNIE_4_5_0_3B, "tie_word_embeddings")).tieWordEmbeddings, true);
    assert.equal(parseModelConfig(without(QWEN3_0_6B, "tie_word_embeddings")).tieWordEmbeddings, false);
    // MistralConfig's sliding_window is 4096 when the key is missing; v0.3 writes null (none).
    assert.equal(parseModelConfig(without(MISTRAL_7B_V0_3, "sliding_window")).slidingWindow, 4096);
    assert.equal(parseModelConfig({ ...MISTRAL_7B_V0_3, sliding_window: 4096 }).slidingWindow, 4096);
  });

  test("transformers 5's rope_parameters is read like rope_scaling (nested per layer kind on Gemma 3)", () => {
    const nested = (full: Record<string, unknown>) => ({ ...GEMMA_3_1B, rope_scaling: undefined, rope_parameters: { full_attention: full, sliding_attention: { rope_type: "default", rope_theta: 1e4 } } });
    assert.equal(parseModelConfig(nested({ rope_type: "default", rope_theta: 1e6 })).ropeScaling, null);
    assert.equal(parseModelConfig(nested({ rope_type: "linear", factor: 8, rope_theta: 1e6 })).ropeScaling, "linear");
    refused(nested({ rope_type: "yarn", factor: 8 }), /^rope_parameters\.full_attention type "yarn" is not supported/);
    assert.equal(parseModelConfig({ ...QWEN3_0_6B, rope_scaling: undefined, rope_parameters: { rope_type: "default", rope_theta: 1e6 } }).ropeScaling, null);
    assert.equal(parseModelConfig({ ...LLAMA_3_2_1B, rope_scaling: undefined, rope_parameters: { ...LLAMA_3_2_1B.rope_scaling, rope_theta: 5e5 } }).ropeScaling, "llama3");
    assert.equal(parseModelConfig({ ...LLAMA_3_2_1B, rope_scaling: { type: "linear", factor: 2 } }).ropeScaling, "linear");
  });
});

describe("model config: what import refuses, naming it", () => {
  test("mixture-of-experts checkpoints", () => {
    refused({ ...ERNIE_4_5_0_3B, architectures: ["Ernie4_5_MoeForCausalLM"], model_type: "ernie4_5_moe", moe_num_experts: 64 }, /^model_type "ernie4_5_moe": MoE models are not supported/);
    refused({ ...QWEN3_0_6B, architectures: ["Qwen3MoeForCausalLM"], model_type: undefined }, /^architectures \["Qwen3MoeForCausalLM"\]: MoE models are not supported/);
    refused({ ...MISTRAL_7B_V0_3, architectures: ["MixtralForCausalLM"], model_type: "mixtral" }, /MoE models are not supported/);
    refused({ ...QWEN2_5_0_5B, num_experts: 60 }, /^num_experts: MoE models are not supported/);
  });

  test("other architectures, with the supported ones listed", () => {
    refused({ ...LLAMA_3_2_1B, architectures: ["GemmaForCausalLM"], model_type: "gemma" },
      /^architectures \["GemmaForCausalLM"\] is not supported \(Sailfin supports LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Ernie4_5ForCausalLM, MistralForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM\)$/);
    refused({ ...GEMMA_3_1B, architectures: ["Gemma3ForConditionalGeneration"], model_type: "gemma3" }, /^model_type "gemma3" \(image-text\) is not supported: import the text-only checkpoint/);
    refused({ ...LLAMA_3_2_1B, architectures: undefined, model_type: "phi3" }, /^model_type "phi3" is not supported/);
    refused({ ...QWEN3_0_6B, model_type: "qwen2" }, /^model_type "qwen2" contradicts architectures \(Qwen3ForCausalLM\)/);
  });

  test("options the runtime does not implement", () => {
    refused({ ...QWEN2_5_0_5B, use_sliding_window: true }, /^use_sliding_window: true is not supported/);
    refused({ ...QWEN3_0_6B, use_sliding_window: true }, /^use_sliding_window: true is not supported/);
    refused({ ...QWEN3_0_6B, layer_types: ["full_attention", "sliding_attention"] }, /^layer_types "sliding_attention" is not supported/);
    refused({ ...LLAMA_3_2_1B, rope_scaling: { rope_type: "yarn", factor: 4 } }, /^rope_scaling type "yarn" is not supported \(default, linear, llama3\)/);
    refused({ ...LLAMA_3_2_1B, rope_scaling: { rope_type: "llama3", factor: 32 } }, /^rope_scaling\.low_freq_factor must be a positive number for type llama3/);
    refused({ ...LLAMA_3_2_1B, hidden_act: "gelu" }, /^hidden_act "gelu" is not supported \(silu for llama\)/);
    refused({ ...GEMMA_2_2B, hidden_activation: "gelu" }, /^hidden_activation "gelu" is not supported \(gelu_pytorch_tanh for gemma2\)/);
    refused({ ...GEMMA_3_1B, use_bidirectional_attention: true }, /^use_bidirectional_attention: true is not supported/);
    refused({ ...GEMMA_3_1B, layer_types: ["sliding_attention", "full_attention"] }, /^layer_types has 2 entries, but num_hidden_layers is 26/);
    refused({ ...GEMMA_2_2B, num_hidden_layers: 1, layer_types: ["chunked_attention"] }, /^layer_types "chunked_attention" is not supported \(full_attention or sliding_attention layers only\)/);
    assert.equal(parseModelConfig({ ...GEMMA_2_2B, num_hidden_layers: 2, layer_types: ["sliding_attention", "full_attention"] }).numLayers, 2);
    refused({ ...MISTRAL_7B_V0_3, quantization_config: { quant_method: "gptq", bits: 4 } }, /^quantization_config: pre-quantized checkpoints are not supported/);
    refused({ ...MISTRAL_7B_V0_3, sliding_window: 0 }, /^sliding_window must be a positive integer/);
    refused({ ...ERNIE_4_5_0_3B, use_bias: "yes" }, /^use_bias must be true or false/);
  });
});

describe("config summary", () => {
  const before14 = {
    architecture: "Qwen2ForCausalLM", modelType: "qwen2", hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16,
    vocabSize: 288, maxPositionEmbeddings: 512, tieWordEmbeddings: true, hasChatTemplate: true, dtype: "F32", parameterCount: 100,
  };
  test("a summary written before sliding window and rope scaling were kept reads them as none", () => {
    const summary = parseConfigSummary(JSON.stringify(before14));
    assert.equal(summary?.slidingWindow, null);
    assert.equal(summary?.ropeScaling, null);
  });
  test("a newer summary keeps them; a bad one reads as unknown", () => {
    const summary = parseConfigSummary(JSON.stringify({ ...before14, modelType: "mistral", slidingWindow: 4096, ropeScaling: "llama3" }));
    assert.deepEqual([summary?.slidingWindow, summary?.ropeScaling], [4096, "llama3"]);
    assert.equal(parseConfigSummary(JSON.stringify({ ...before14, slidingWindow: -1 })), null);
    assert.equal(parseConfigSummary(JSON.stringify({ ...before14, ropeScaling: 3 })), null);
  });
});
