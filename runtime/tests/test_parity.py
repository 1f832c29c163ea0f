"""Parity with Hugging Face transformers and PEFT, against committed fixtures.

The fixtures were made by ``parity/make_fixtures.py`` with transformers 4.46.3 and
PEFT 0.13.2 (see ``parity/fixtures/versions.json``); this test needs neither.

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
from sailfin_runtime.models.llama import CausalLM, ModelConfig

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


@pytest.mark.parametrize("name", ["llama", "qwen2", "llama3_bias"])
def test_logits_match_transformers_with_and_without_padding(name):
    model, fx = load(name), expected(name)
    assert fx["attention_mask"][1, -1] == 0 and fx["attention_mask"][2, 0] == 0  # right and left padding present
    diff = max_diff_on_tokens(model, fx)
    print(f"{name}: max |logit diff| = {diff:.2e}")
    assert diff <= TOLERANCE
    assert float(fx["logits"].abs().max()) > 1.0  # the comparison is not between near-zero numbers


@pytest.mark.parametrize("name", ["llama", "qwen2"])
def test_packed_row_equals_samples_run_alone(name):
    model, fx = load(name), expected(name)
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
