"""The decoder: Hugging Face parameter names, tying, packing, loading errors."""

from __future__ import annotations

import pytest
import torch

from helpers import tiny_config
from sailfin_runtime.models.attention import segment_mask
from sailfin_runtime.models.llama import CausalLM, ModelConfig, segment_positions
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
