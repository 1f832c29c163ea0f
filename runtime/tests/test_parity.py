"""Parity with Hugging Face transformers and PEFT, against committed fixtures.

The fixtures were made by ``parity/make_fixtures.py``: Llama and Qwen2 with
transformers 4.46.3 and PEFT 0.13.2, the later architectures (Qwen3, Qwen2.5,
Llama 3.2, ERNIE 4.5, Mistral) with transformers 5.17.0 and PEFT 0.21.2 (see
``parity/fixtures/versions.json``); this test needs neither.

Tolerance: max |Δlogit| <= 1e-4 in fp32. Measured: at most 5.2e-6 on torch 1.13 CPU
(explicit attention) and 5.9e-6 on torch 2.x CPU (SDPA), for logits of magnitude 1..10
(the fixture weights are deliberately large and random).
"""

from __future__ import annotations

import os

import pytest
import torch

from sailfin_runtime.io import safetensors
from sailfin_runtime.models import lora
from sailfin_runtime._compat import has_flex
from sailfin_runtime.models.decoder import CausalLM, ModelConfig

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity", "fixtures")
TOLERANCE = 1e-4


def load(name: str) -> CausalLM:
    folder = os.path.join(FIXTURES, name)
    model = CausalLM(ModelConfig.from_dir(folder))
    model.load_hf_state_dict(safetensors.load_model_folder(folder), folder)
    return model.eval()


def expected(name: str):
    return safetensors.load_file(os.path.join(FIXTURES, name, "expected.safetensors"))


def max_diff_on_tokens(model: CausalLM, fx) -> float:
    """Compare on real (non-padding) tokens; padding positions have no defined logits."""
    mask = fx["attention_mask"]
    with torch.no_grad():
        logits = model(fx["input_ids"], segment_ids=mask)  # one segment per row: padding is segment 0
    keep = mask.bool()
    return float((logits[keep] - fx["logits"][keep]).abs().max())


FAMILIES = ["qwen3", "qwen2_5", "llama3_2", "ernie4_5", "ernie4_5_bias", "mistral", "gemma2", "gemma3_text"]
ADAPTERS = {f"{base}_lora": base for base in ["qwen3", "qwen2_5", "llama3_2", "ernie4_5", "mistral", "gemma2", "gemma3_text"]}


@pytest.mark.parametrize("name", ["llama", "qwen2", "llama3_bias"] + FAMILIES)
def test_logits_match_transformers_with_and_without_padding(name):
    model, fx = load(name), expected(name)
    assert fx["attention_mask"][1, -1] == 0 and fx["attention_mask"][2, 0] == 0  # right and left padding present
    diff = max_diff_on_tokens(model, fx)
    print(f"{name}: max |logit diff| = {diff:.2e}")
    assert diff <= TOLERANCE
    assert float(fx["logits"].abs().max()) > 1.0  # the comparison is not between near-zero numbers


@pytest.mark.parametrize("backend", [None, "flex"])
@pytest.mark.parametrize("name", ["llama", "qwen2"] + FAMILIES)
def test_packed_row_equals_samples_run_alone(name, backend):
    """The automatic backend, and FlexAttention's block mask (windows, soft-cap, GQA of each family)."""
    if backend == "flex" and not has_flex():
        pytest.skip("FlexAttention needs torch >= 2.5")
    model, fx = load(name), expected(name)
    model.model.attention_backend = backend
    with torch.no_grad():
        logits = model(fx["packed_ids"], segment_ids=fx["packed_segments"])
    diff = float((logits - fx["packed_logits"]).abs().max())
    print(f"{name} packed: max |logit diff| = {diff:.2e}")
    assert diff <= TOLERANCE


def test_qwen2_fixture_is_tied_and_has_qkv_biases():
    model = load("qwen2")
    assert model.lm_head.weight is model.model.embed_tokens.weight
    header, _, _ = safetensors.read_header(os.path.join(FIXTURES, "qwen2", "model.safetensors"))
    assert "lm_head.weight" not in header
    assert "model.layers.0.self_attn.q_proj.bias" in header and "model.layers.0.self_attn.o_proj.bias" not in header


def test_peft_adapter_loads_and_reproduces_peft_logits():
    model = load("llama")
    settings = lora.load_adapter(model, os.path.join(FIXTURES, "llama_lora"))
    assert settings.r == 4 and settings.scaling == 2.0
    fx = expected("llama_lora")
    diff = max_diff_on_tokens(model.eval(), fx)
    print(f"llama + PEFT LoRA: max |logit diff| = {diff:.2e}")
    assert diff <= TOLERANCE
    base_diff = max_diff_on_tokens(load("llama"), fx)
    assert base_diff > 100 * TOLERANCE  # the adapter really changes the logits
    lora.merge_lora(model)
    assert max_diff_on_tokens(model, fx) <= TOLERANCE


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_all_linear_peft_adapter_reproduces_peft_logits(name):
    base = ADAPTERS[name]
    model = load(base)
    settings = lora.load_adapter(model, os.path.join(FIXTURES, name))
    assert sorted(settings.targets) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
    fx = expected(name)
    diff = max_diff_on_tokens(model.eval(), fx)
    print(f"{base} + PEFT LoRA (all linear): max |logit diff| = {diff:.2e}")
    assert diff <= TOLERANCE
    assert max_diff_on_tokens(load(base), fx) > 100 * TOLERANCE  # the adapter really changes the logits
    lora.merge_lora(model)
    assert max_diff_on_tokens(model, fx) <= TOLERANCE


@pytest.mark.parametrize("name", FAMILIES)
def test_cached_decoding_of_a_left_padded_batch_gives_transformers_logits(name):
    """Prefill then one token per call, through the KV cache: the logits HF gave the whole batch."""
    model, fx = load(name), expected(name)
    ids, mask = fx["input_ids"], fx["attention_mask"]
    cache, steps = model.new_cache(), []
    with torch.no_grad():
        for start, end in [(0, 6)] + [(i, i + 1) for i in range(6, ids.shape[1])]:
            steps.append(model(ids[:, start:end], attention_mask=mask[:, :end], cache=cache))
    logits, keep = torch.cat(steps, dim=1), mask.bool()
    diff = float((logits[keep] - fx["logits"][keep]).abs().max())
    print(f"{name} cached: max |logit diff| = {diff:.2e}")
    assert diff <= TOLERANCE


def test_family_fixtures_have_their_architecture_options():
    """Each fixture exercises what sets its family apart (else parity would prove less)."""
    qwen3 = load("qwen3")
    assert qwen3.model.layers[0].self_attn.q_norm.weight.shape == (16,)  # head_dim, not hidden / heads (8)
    assert qwen3.lm_head.weight is qwen3.model.embed_tokens.weight
    qwen25 = load("qwen2_5").config
    assert (qwen25.num_attention_heads, qwen25.num_key_value_heads, qwen25.head_dim, qwen25.rope_theta) == (14, 2, 64, 1e6)
    llama32 = load("llama3_2")
    assert llama32.config.rope_scaling["factor"] == 32.0 and llama32.config.tie_word_embeddings
    ernie = load("ernie4_5")
    assert ernie.config.rope_interleaved and ernie.config.tie_word_embeddings and not ernie.config.use_bias
    header, _, _ = safetensors.read_header(os.path.join(FIXTURES, "ernie4_5_bias", "model.safetensors"))
    assert {"model.layers.0.self_attn.o_proj.bias", "model.layers.0.mlp.down_proj.bias"} <= set(header)
    mistral = load("mistral")
    assert mistral.model.layers[0].self_attn.window == 4
    assert int(expected("mistral")["packed_segments"][0].bincount()[1:].min()) > 4  # the window is shorter than each sample
    gemma2 = load("gemma2")
    assert [layer.self_attn.window for layer in gemma2.model.layers] == [4, None]  # a sliding and a global layer
    assert gemma2.model.layers[0].self_attn.softcap == 50.0 and gemma2.config.final_logit_softcapping == 30.0
    assert gemma2.model.layers[0].self_attn.scale == 24 ** -0.5  # query_pre_attn_scalar, not head_dim (16)
    gemma3 = load("gemma3_text")
    assert [layer.self_attn.local_rope for layer in gemma3.model.layers] == [True, True, False]
    assert gemma3.config.rope_local_theta == 1e4 and gemma3.config.rope_theta == 1e6


def test_our_adapter_files_use_peft_naming(tmp_path):
    model = load("llama")
    settings = lora.LoraSettings(r=4, alpha=8, dropout=0.0, targets=["q_proj", "v_proj", "gate_proj", "down_proj"])
    lora.add_lora(model, settings)
    lora.save_adapter(model, str(tmp_path), settings, base_model="llama")
    ours, _, _ = safetensors.read_header(str(tmp_path / "adapter_model.safetensors"))
    peft, _, _ = safetensors.read_header(os.path.join(FIXTURES, "llama_lora", "adapter_model.safetensors"))
    assert sorted(ours) == sorted(peft)
    assert all(ours[k]["shape"] == peft[k]["shape"] for k in ours)
    import json

    ours_cfg = json.loads((tmp_path / "adapter_config.json").read_text())
    with open(os.path.join(FIXTURES, "llama_lora", "adapter_config.json")) as f:
        peft_cfg = json.load(f)
    assert set(peft_cfg) <= set(ours_cfg)  # every key PEFT writes, we write
    assert ours_cfg["peft_type"] == "LORA" and ours_cfg["r"] == 4


def test_reader_reads_reference_writer_every_dtype():
    path = os.path.join(FIXTURES, "dtypes.safetensors")
    t = safetensors.load_file(path)
    assert safetensors.load_metadata(path) == {"made_by": "safetensors"}
    f32 = t["f32"]
    assert t["f64"].dtype == torch.float64 and torch.equal(t["f64"].float(), f32)
    assert t["f16"].dtype == torch.float16 and torch.equal(t["f16"], f32.half())
    assert t["bf16"].dtype == torch.bfloat16 and torch.equal(t["bf16"], f32.bfloat16())
    assert torch.equal(t["i64"], (f32 * 100).long()) and t["i32"].dtype == torch.int32 and t["i16"].dtype == torch.int16
    assert torch.equal(t["i8"], (f32 * 10).to(torch.int8)) and torch.equal(t["u8"], (f32.abs() * 10).to(torch.uint8))
    assert torch.equal(t["bool"], f32 > 0)
    assert t["scalar"].shape == () and float(t["scalar"]) == 3.5
    assert t["empty"].shape == (0, 4)
