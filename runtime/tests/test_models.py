"""The decoder: Hugging Face parameter names, tying, packing, loading errors."""

from __future__ import annotations

import pytest
import torch

from helpers import tiny_config
from sailfin_runtime.models.attention import segment_mask, window_mask
from sailfin_runtime.models.decoder import CausalLM, ModelConfig, rope_inv_freq, segment_positions
from sailfin_runtime.protocol import UserError


def expected_keys(layers: int, qkv_bias: bool, lm_head: bool):
    keys = ["model.embed_tokens.weight", "model.norm.weight"] + (["lm_head.weight"] if lm_head else [])
    for i in range(layers):
        p = f"model.layers.{i}."
        keys += [p + "input_layernorm.weight", p + "post_attention_layernorm.weight"]
        keys += [p + f"self_attn.{n}_proj.weight" for n in "qkvo"]
        keys += [p + f"mlp.{n}_proj.weight" for n in ("gate", "up", "down")]
        if qkv_bias:
            keys += [p + f"self_attn.{n}_proj.bias" for n in "qkv"]
    return sorted(keys)


def test_llama_keys_are_hf_names():
    model = CausalLM(ModelConfig.from_dict(tiny_config("llama")))
    assert sorted(model.hf_state_dict()) == expected_keys(2, qkv_bias=False, lm_head=True)


def test_qwen2_tied_keys_drop_lm_head_and_have_qkv_biases():
    model = CausalLM(ModelConfig.from_dict(tiny_config("qwen2", tied=True)))
    assert model.lm_head.weight is model.model.embed_tokens.weight
    assert sorted(model.hf_state_dict()) == expected_keys(2, qkv_bias=True, lm_head=False)


def test_tied_model_round_trips_through_hf_state_dict():
    cfg = ModelConfig.from_dict(tiny_config("qwen2", tied=True))
    a, b = CausalLM(cfg).init_weights(1), CausalLM(cfg).init_weights(2)
    b.load_hf_state_dict(a.hf_state_dict(), "test")
    ids = torch.randint(0, cfg.vocab_size, (2, 12))
    assert torch.equal(a(ids), b(ids))
    assert b.lm_head.weight is b.model.embed_tokens.weight  # still tied after loading


def test_segment_positions_restart_and_mask_is_block_diagonal():
    seg = torch.tensor([[1, 1, 1, 2, 2, 0, 0]])
    assert segment_positions(seg).tolist() == [[0, 1, 2, 0, 1, 0, 1]]
    mask = segment_mask(seg)[0, 0]
    assert mask[4].tolist() == [False, False, False, True, True, False, False]
    assert mask[2].tolist() == [True, True, True, False, False, False, False]
    assert bool(mask.diagonal().all())  # no fully masked row, even on padding


def test_packed_row_gives_each_sample_its_own_logits():
    cfg = ModelConfig.from_dict(tiny_config("llama"))
    model = CausalLM(cfg).init_weights(3).eval()
    a, b = torch.randint(0, cfg.vocab_size, (1, 5)), torch.randint(0, cfg.vocab_size, (1, 7))
    packed = torch.cat([a, b, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    seg = torch.tensor([[1] * 5 + [2] * 7 + [0] * 4])
    with torch.no_grad():
        got = model(packed, seg)
        alone = torch.cat([model(a), model(b)], dim=1)
    assert float((got[:, :12] - alone).abs().max()) < 1e-5


def test_missing_and_misshapen_weights_are_user_errors():
    cfg = ModelConfig.from_dict(tiny_config("llama"))
    weights = CausalLM(cfg).hf_state_dict()
    model = CausalLM(cfg)
    with pytest.raises(UserError, match="miss"):
        model.load_hf_state_dict({k: v for k, v in weights.items() if "layers.1." not in k}, "modelDir")
    weights["model.norm.weight"] = torch.ones(7)
    with pytest.raises(UserError, match="shape"):
        model.load_hf_state_dict(weights, "modelDir")


def test_unsupported_architectures_are_user_errors():
    with pytest.raises(UserError, match="model_type 'gpt2'"):
        ModelConfig.from_dict({**tiny_config(), "model_type": "gpt2"})
    with pytest.raises(UserError, match="rope_scaling"):
        ModelConfig.from_dict({**tiny_config(), "rope_scaling": {"rope_type": "yarn", "factor": 4.0}})
    with pytest.raises(UserError, match="sliding"):
        ModelConfig.from_dict({**tiny_config("qwen2"), "use_sliding_window": True})


def test_later_families_are_refused_by_name_or_misconfigured_with_user_errors():
    with pytest.raises(UserError, match="model_type 'ernie4_5_moe'.*mixture-of-experts"):
        ModelConfig.from_dict({**tiny_config(), "model_type": "ernie4_5_moe"})
    with pytest.raises(UserError, match="sliding"):
        ModelConfig.from_dict({**tiny_config("qwen3"), "use_sliding_window": True})
    with pytest.raises(UserError, match="sliding_window must be a positive integer"):
        ModelConfig.from_dict({**tiny_config("mistral"), "sliding_window": 0})
    with pytest.raises(UserError, match="layer_types"):
        ModelConfig.from_dict({**tiny_config("qwen3"), "layer_types": ["sliding_attention", "full_attention"]})


def test_config_fields_of_later_families():
    # transformers >= 5 writes rope_parameters where older configs have rope_theta and rope_scaling.
    llama3 = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 8192}
    new = ModelConfig.from_dict({**tiny_config(), "rope_parameters": {"rope_theta": 5e5, **llama3}})
    old = ModelConfig.from_dict({**tiny_config(), "rope_theta": 5e5, "rope_scaling": llama3})
    assert (new.rope_theta, new.rope_scaling) == (old.rope_theta, old.rope_scaling) == (5e5, llama3)
    plain = ModelConfig.from_dict({**tiny_config(), "rope_parameters": {"rope_theta": 1e6, "rope_type": "default"}})
    assert plain.rope_theta == 1e6 and plain.rope_scaling is None
    # transformers' defaults where a config leaves a field out
    ernie = {k: v for k, v in tiny_config("ernie4_5").items()
             if k not in ("tie_word_embeddings", "rms_norm_eps", "rope_theta")}
    cfg = ModelConfig.from_dict(ernie)
    assert (cfg.tie_word_embeddings, cfg.rms_norm_eps, cfg.rope_theta, cfg.head_dim) == (True, 1e-5, 5e5, 128)
    assert ModelConfig.from_dict({**tiny_config("mistral"), "sliding_window": None}).sliding_window is None


def test_later_families_have_hf_tensor_names():
    qwen3 = CausalLM(ModelConfig.from_dict(tiny_config("qwen3", head_dim=16)))
    keys = set(qwen3.hf_state_dict())
    assert keys == set(expected_keys(2, qkv_bias=False, lm_head=True)) | {
        f"model.layers.{i}.self_attn.{n}_norm.weight" for i in range(2) for n in "qk"}
    assert qwen3.hf_state_dict()["model.layers.0.self_attn.q_norm.weight"].shape == (16,)
    ernie = CausalLM(ModelConfig.from_dict(tiny_config("ernie4_5", use_bias=True, tie_word_embeddings=False)))
    biases = {k for k in ernie.hf_state_dict() if k.endswith(".bias")}
    assert biases == {f"model.layers.{i}.{m}.bias" for i in range(2)
                      for m in ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]}
    mistral = CausalLM(ModelConfig.from_dict({**tiny_config("mistral"), "attention_bias": True}))
    assert set(mistral.hf_state_dict()) == set(expected_keys(2, qkv_bias=False, lm_head=True))  # Mistral has no biases


def test_sliding_window_limits_packed_and_padded_rows_to_the_last_keys():
    seg = torch.tensor([[1, 1, 1, 1, 1, 2, 2, 2]])
    mask = window_mask(segment_mask(seg), 3, 8, 8, torch.device("cpu"))[0, 0]
    assert mask[4].tolist() == [False, False, True, True, True, False, False, False]  # itself and the 2 before
    assert mask[6].tolist() == [False] * 5 + [True, True, False]  # not across the segment boundary
    # Windowed packed rows give each sample the logits it gets alone (windowed too).
    cfg = ModelConfig.from_dict({**tiny_config("mistral"), "sliding_window": 3})
    model = CausalLM(cfg).init_weights(3).eval()
    a, b = torch.randint(0, cfg.vocab_size, (1, 6)), torch.randint(0, cfg.vocab_size, (1, 7))
    with torch.no_grad():
        got = model(torch.cat([a, b], dim=1), torch.tensor([[1] * 6 + [2] * 7]))
        alone = torch.cat([model(a), model(b)], dim=1)
        unwindowed = CausalLM(ModelConfig.from_dict(tiny_config("mistral"))).init_weights(3).eval()(a)
    assert float((got - alone).abs().max()) < 1e-5
    assert float((unwindowed - alone[:, :6]).abs().max()) > 1e-3  # the window changed the logits


def test_gemma_configs_as_the_hub_writes_them():
    """Gemma configs before transformers 5: a window pattern and rope_local_base_freq instead of per-layer fields."""
    gemma3 = {**tiny_config("gemma3_text", num_hidden_layers=6), "hidden_activation": "gelu_pytorch_tanh",
              "sliding_window_pattern": 3, "sliding_window": 512, "rope_theta": 1e6, "rope_local_base_freq": 1e4,
              "rope_scaling": {"rope_type": "linear", "factor": 8.0}}
    del gemma3["tie_word_embeddings"]  # Gemma's default: tied
    cfg = ModelConfig.from_dict(gemma3)
    assert cfg.layer_types == ["sliding_attention", "sliding_attention", "full_attention"] * 2
    assert [cfg.layer_window(i) for i in range(3)] == [512, 512, None]
    assert (cfg.rope_theta, cfg.rope_local_theta, cfg.head_dim, cfg.tie_word_embeddings) == (1e6, 1e4, 256, True)
    model = CausalLM(cfg)
    assert [layer.self_attn.local_rope for layer in model.model.layers] == [True, True, False] * 2
    # linear scaling on the global layers only
    assert torch.allclose(model.model.inv_freq * 8, rope_inv_freq(ModelConfig.from_dict({**gemma3, "rope_scaling": None})))
    assert torch.allclose(model.model.inv_freq_local, 1.0 / (1e4 ** (torch.arange(0, 256, 2).float() / 256)))
    gemma2 = ModelConfig.from_dict({**tiny_config("gemma2"), "hidden_act": "gelu_pytorch_tanh"})
    assert gemma2.layer_types == ["sliding_attention", "full_attention"]
    assert (gemma2.attn_logit_softcapping, gemma2.final_logit_softcapping, gemma2.query_pre_attn_scalar) == (50.0, 30.0, 256)
    with pytest.raises(UserError, match="model_type 'gemma3'.*gemma3_text"):
        ModelConfig.from_dict({**tiny_config(), "model_type": "gemma3"})
    with pytest.raises(UserError, match="use_bidirectional_attention"):
        ModelConfig.from_dict({**gemma3, "use_bidirectional_attention": True})
    with pytest.raises(UserError, match="hidden_act 'silu' is not supported for gemma2"):
        ModelConfig.from_dict({**tiny_config("gemma2")})
    with pytest.raises(UserError, match="layer_types"):
        ModelConfig.from_dict({**gemma3, "layer_types": ["full_attention"]})


def test_gemma_tensor_names():
    model = CausalLM(ModelConfig.from_dict({**tiny_config("gemma2", tie_word_embeddings=True), "hidden_act": "gelu_pytorch_tanh"}))
    extra = {f"model.layers.{i}.{n}_feedforward_layernorm.weight" for i in range(2) for n in ("pre", "post")}
    assert set(model.hf_state_dict()) == set(expected_keys(2, qkv_bias=False, lm_head=False)) | extra
