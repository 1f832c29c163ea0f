"""Export: a merged LoRA model reproduces the adapter model; the folder is a complete HF model.

Tolerances: fp32 base, max |Δlogit| <= 1e-4 (measured 1e-5 for logits of magnitude 5:
merging only reorders fp32 sums). bf16 base: the merged weights are rounded to bf16 once (as PEFT's
``merge_and_unload`` on a bf16 model does); measured max |Δlogit| 6.2e-2 for logits
of magnitude 5 (1.2%) against the unmerged adapter on the bf16 base, asserted <= 2%.
"""

from __future__ import annotations

import json
import os

import pytest
import torch

from helpers import make_data, make_model_dir, make_spec, run_export, run_finetune
from sailfin_runtime.io import safetensors
from sailfin_runtime.models import lora
from sailfin_runtime.models.decoder import CausalLM, ModelConfig
from sailfin_runtime.protocol import UserError


def load(folder: str) -> CausalLM:
    model = CausalLM(ModelConfig.from_dir(folder))
    model.load_hf_state_dict(safetensors.load_model_folder(folder), folder)
    return model.eval()


def logits(model: CausalLM) -> torch.Tensor:
    ids = torch.randint(0, model.config.vocab_size, (3, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return model(ids)


def train(tmp_path, scale: str, dtype=torch.float32, model_type="llama", tied=False, **hyper):
    model_dir = make_model_dir(str(tmp_path / "model"), model_type=model_type, tied=tied, dtype=dtype, initializer_range=0.2)
    data = make_data(str(tmp_path / "data"), "SFT", rows=32)
    spec = make_spec(str(tmp_path / "spec.json"), model_dir, data, str(tmp_path / "out"), scale=scale,
                     loraTargetModules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], **hyper)
    events = run_finetune(spec)
    return model_dir, events[-1]["outputs"]["lastCheckpoint"]


@pytest.mark.parametrize("model_type,tied", [("llama", False), ("qwen2", True)])
def test_merged_lora_export_reproduces_adapter_logits(tmp_path, model_type, tied):
    model_dir, checkpoint = train(tmp_path, "LoRA", model_type=model_type, tied=tied)
    adapted = load(model_dir)
    lora.load_adapter(adapted, checkpoint)
    expected = logits(adapted.eval())
    assert float((expected - logits(load(model_dir))).abs().max()) > 1e-3  # training changed something

    out = str(tmp_path / "exported")
    events = run_export({"modelDir": model_dir, "checkpoint": checkpoint, "outputDir": out}, str(tmp_path))
    assert events[-1] == {**events[-1], "event": "done", "outputs": {"modelDir": out}}
    diff = float((logits(load(out)) - expected).abs().max())
    print(f"{model_type}: merged vs adapter max |logit diff| = {diff:.2e} (max |logit| {float(expected.abs().max()):.1f})")
    assert diff <= 1e-4
    assert sorted(os.listdir(out)) == ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
    header, _, _ = safetensors.read_header(os.path.join(out, "model.safetensors"))
    assert not any("lora" in k for k in header)
    assert ("lm_head.weight" in header) == (not tied)


def test_bf16_base_exports_bf16_and_merges_within_tolerance(tmp_path):
    model_dir, checkpoint = train(tmp_path, "LoRA", dtype=torch.bfloat16)
    adapted = load(model_dir)
    lora.load_adapter(adapted, checkpoint)
    expected = logits(adapted.eval())
    out = str(tmp_path / "exported")
    run_export({"modelDir": model_dir, "checkpoint": checkpoint, "outputDir": out}, str(tmp_path))
    header, _, _ = safetensors.read_header(os.path.join(out, "model.safetensors"))
    assert {e["dtype"] for e in header.values()} == {"BF16"}
    assert json.load(open(os.path.join(out, "config.json")))["torch_dtype"] == "bfloat16"
    diff = float((logits(load(out)) - expected).abs().max())
    scale = float(expected.abs().max())
    print(f"bf16 merged vs adapter max |logit diff| = {diff:.2e} (max |logit| {scale:.1f})")
    assert diff <= 2e-2 * scale


def test_full_checkpoint_exports_in_base_dtype(tmp_path):
    model_dir, checkpoint = train(tmp_path, "FullFineTuning", dtype=torch.bfloat16)
    out = str(tmp_path / "exported")
    run_export({"modelDir": model_dir, "checkpoint": checkpoint, "outputDir": out}, str(tmp_path))
    exported = safetensors.load_model_folder(out)
    trained = safetensors.load_model_folder(checkpoint)
    assert {t.dtype for t in exported.values()} == {torch.bfloat16}
    assert all(torch.equal(exported[k], trained[k].bfloat16()) for k in trained)
    assert os.path.isfile(os.path.join(out, "tokenizer.json"))


def test_lora_on_a_full_init_checkpoint_exports_on_top_of_it(tmp_path):
    model_dir, full_checkpoint = train(tmp_path / "first", "FullFineTuning")
    data = make_data(str(tmp_path / "data2"), "SFT", rows=16, seed=5)
    spec = make_spec(str(tmp_path / "spec2.json"), model_dir, data, str(tmp_path / "out2"), scale="LoRA",
                     initCheckpoint=full_checkpoint)
    events = run_finetune(spec)
    assert events[0]["trainableParameters"] < events[0]["parameters"]
    adapter = events[-1]["outputs"]["lastCheckpoint"]
    adapted = load(full_checkpoint)
    lora.load_adapter(adapted, adapter)
    out = str(tmp_path / "exported")
    run_export({"modelDir": model_dir, "checkpoint": adapter, "outputDir": out}, str(tmp_path))
    assert float((logits(load(out)) - logits(adapted.eval())).abs().max()) <= 1e-4


def test_lora_init_checkpoint_continues_the_same_adapter(tmp_path):
    model_dir, first = train(tmp_path / "first", "LoRA", loraRank=4)
    data = make_data(str(tmp_path / "data2"), "SFT", rows=16, seed=5)
    # A negligible learning rate: the continued adapter must stay the one it started from.
    events = run_finetune(make_spec(str(tmp_path / "spec2.json"), model_dir, data, str(tmp_path / "out2"), scale="LoRA",
                                    loraRank=8, learningRate=1e-9, initCheckpoint=first))
    second = events[-1]["outputs"]["lastCheckpoint"]
    assert json.load(open(os.path.join(second, "adapter_config.json")))["r"] == 4  # the init adapter's rank, not 8
    a = safetensors.load_file(os.path.join(first, "adapter_model.safetensors"))
    b = safetensors.load_file(os.path.join(second, "adapter_model.safetensors"))
    assert sorted(a) == sorted(b)
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-6
    assert max(float(a[k].abs().max()) for k in a if "lora_B" in k) > 1e-3  # the first run trained B


def test_export_of_a_folder_without_weights_is_a_user_error(tmp_path):
    model_dir = make_model_dir(str(tmp_path / "model"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="checkpoint"):
        run_export({"modelDir": model_dir, "checkpoint": str(empty), "outputDir": str(tmp_path / "o")}, str(tmp_path))
