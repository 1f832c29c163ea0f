"""QLoRA: the NF4 format, LoRA over an NF4 base, and ``loraBaseQuantization: NF4`` runs.

Bounds, and what was measured (torch 1.13 and 2.9.1 CPU, fp32):

- NF4 round trip of N(0, 1) (256 x 512, seed 0): every value within half the widest
  code gap (0.152) x its block's absmax, as nearest rounding guarantees; relative RMS
  error 0.092 (asserted < 0.10; 4-bit NormalFloat's known ~0.09 for normal data).
- Loss curve, tiny Llama (``initializer_range`` 0.2, all seven projections, r 8, 64
  steps, the golden ``sft_lora`` task of test_training.py), NF4 base vs fp32 base:
  step 1 |Δ| 0.018 (the base's quantization error alone; asserted < 0.05),
  last-5-step mean |Δ| 0.028 of 4.62 (asserted < 0.1), final eval loss |Δ| 0.032
  (asserted < 0.1), worst single step |Δ| 0.26 (asserted < 0.5: the curves drift
  apart and back mid-run, as two seeds would).
"""

from __future__ import annotations

import json
import os

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from helpers import StopAfter, losses_of, make_data, make_model_dir, make_spec, run_export, run_finetune
from sailfin_runtime.io import safetensors
from sailfin_runtime.models import lora, nf4
from sailfin_runtime.models.decoder import CausalLM, ModelConfig
from sailfin_runtime.protocol import EventSink, StopFlag
from sailfin_runtime.recipes import finetune
from sailfin_runtime.spec import read_finetune_spec

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
HALF_GAP = max(b - a for a, b in zip(nf4.CODE, nf4.CODE[1:])) / 2


def load(folder: str) -> CausalLM:
    model = CausalLM(ModelConfig.from_dir(folder))
    model.load_hf_state_dict(safetensors.load_model_folder(folder), folder)
    return model.eval()


def test_code_is_the_normal_quantile_table():
    assert float((nf4.code_from_normal_quantiles() - torch.tensor(nf4.CODE, dtype=torch.float64)).abs().max()) < 1e-6
    assert len(nf4.CODE) == 16 and nf4.CODE[7] == 0.0 and (nf4.CODE[0], nf4.CODE[-1]) == (-1.0, 1.0)


def test_round_trip_error_of_a_normal_tensor():
    w = torch.randn(256, 512, generator=torch.Generator().manual_seed(0))
    packed = nf4.quantize(w)
    assert packed["qweight"].dtype == torch.uint8 and packed["qweight"].numel() == w.numel() // 2
    assert packed["absmax"].shape == (w.numel() // nf4.BLOCK_SIZE,)
    back = nf4.dequantize(packed["qweight"], packed["absmax"], w.shape, torch.float32)
    err = (back - w).view(-1, nf4.BLOCK_SIZE).abs()
    absmax = w.view(-1, nf4.BLOCK_SIZE).abs().amax(dim=1, keepdim=True)
    assert bool((err <= HALF_GAP * absmax * (1 + 1e-6)).all())
    relative = float((back - w).pow(2).mean().sqrt() / w.pow(2).mean().sqrt())
    print(f"NF4 relative RMS error on N(0, 1): {relative:.4f}")
    assert relative < 0.10
    # each block's absmax value and exact zeros come back exactly
    assert torch.equal(back.view(-1, nf4.BLOCK_SIZE).abs().amax(dim=1), absmax.view(-1))


def test_odd_shapes_pad_the_last_block_and_zero_blocks_stay_zero():
    w = torch.randn(3, 7, generator=torch.Generator().manual_seed(1))
    packed = nf4.quantize(w)
    assert packed["absmax"].shape == (1,) and packed["qweight"].numel() == nf4.BLOCK_SIZE // 2
    back = nf4.dequantize(packed["qweight"], packed["absmax"], w.shape, torch.float32)
    assert back.shape == w.shape and float((back - w).abs().max()) <= HALF_GAP * float(w.abs().max()) * (1 + 1e-6)
    zeros = nf4.quantize(torch.zeros(2, 64))
    assert torch.equal(nf4.dequantize(zeros["qweight"], zeros["absmax"], torch.Size((2, 64)), torch.float32),
                       torch.zeros(2, 64))


def test_quantize_is_deterministic_and_bf16_dequantizes_in_bf16():
    w = torch.randn(64, 96, generator=torch.Generator().manual_seed(2))
    a, b = nf4.quantize(w), nf4.quantize(w.clone())
    assert torch.equal(a["qweight"], b["qweight"]) and torch.equal(a["absmax"], b["absmax"])
    half = nf4.dequantize(a["qweight"], a["absmax"], w.shape, torch.bfloat16)
    assert half.dtype == torch.bfloat16
    full = nf4.dequantize(a["qweight"], a["absmax"], w.shape, torch.float32)
    assert float((half.float() - full).abs().max()) <= float(full.abs().max()) * 2 ** -7


def test_nf4_linear_forward_and_input_gradient_match_the_dequantized_weight():
    torch.manual_seed(0)
    linear = nn.Linear(96, 48, bias=True)
    layer = nf4.NF4Linear(linear)
    weight = layer.weight_as(torch.float32)
    x = torch.randn(5, 7, 96, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    out = layer(x)
    ref = F.linear(x_ref, weight, linear.bias.detach())
    assert float((out - ref).detach().abs().max()) < 1e-5
    out.square().sum().backward()
    ref.square().sum().backward()
    assert float((x.grad - x_ref.grad).abs().max()) < 1e-4
    assert layer.bias.grad is None and not layer.bias.requires_grad
    assert [n for n, _ in layer.named_parameters()] == ["bias"]  # the weight is buffers only


def test_backward_keeps_the_packed_weight_not_a_dequantized_copy():
    layer = nf4.NF4Linear(nn.Linear(256, 256, bias=False))
    saved = []

    def pack(t):
        saved.append(t.numel() * t.element_size())
        return t

    x = torch.randn(2, 256, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer(x).sum().backward()
    assert sum(saved) < 256 * 256 * 4 / 4  # packed + absmax: 4.5 bits a weight, not a 32-bit copy


def test_bf16_autocast_computes_in_bf16():
    layer = nf4.NF4Linear(nn.Linear(64, 32, bias=False))
    x = torch.randn(4, 64)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        out = layer(x)
    assert out.dtype == torch.bfloat16
    assert float((out.float() - F.linear(x, layer.weight_as(torch.float32))).abs().max()) < 0.05 * float(out.float().abs().max())


def test_lora_over_an_nf4_base_trains_only_the_adapter():
    torch.manual_seed(0)
    base = nf4.NF4Linear(nn.Linear(64, 32, bias=True))
    layer = lora.LoRALinear(base, r=4, alpha=8, dropout=0.0, scaling=2.0)
    nn.init.normal_(layer.lora_B.weight)
    x = torch.randn(3, 64)
    expected = base(x) + 2.0 * layer.lora_B(layer.lora_A(x))
    out = layer(x)
    assert float((out - expected).detach().abs().max()) < 1e-5
    out.sum().backward()
    assert layer.lora_A.weight.grad is not None and layer.lora_B.weight.grad is not None
    assert {n for n, p in layer.named_parameters() if p.requires_grad} == {"lora_A.weight", "lora_B.weight"}
    with pytest.raises(ValueError, match="full-precision"):
        layer.merged()


def test_quantizing_the_decoder_cuts_its_weight_bytes_by_seven(tmp_path):
    folder = make_model_dir(str(tmp_path / "model"), hidden_size=128, intermediate_size=256)
    model = load(folder)
    linears = [m for n, m in model.named_modules() if type(m) is nn.Linear and ".layers." in n]
    decoder_before = sum(m.weight.numel() * m.weight.element_size() for m in linears)
    before = nf4.model_bytes(model)
    names = nf4.quantize_decoder(model)
    after = nf4.model_bytes(model)
    assert len(names) == 2 * 7 and nf4.quantize_decoder(model) == []  # a second call changes nothing
    assert isinstance(model.lm_head, nn.Linear) and model.model.embed_tokens.weight.dtype == torch.float32
    saved = before - after
    print(f"model {before} -> {after} bytes; decoder projections {decoder_before} -> {decoder_before - saved}")
    # fp32 (32 bits) -> 4 bits + a 32-bit absmax per 64 weights = 4.5 bits
    assert decoder_before - saved == pytest.approx(decoder_before * 4.5 / 32, rel=1e-6)
    assert nf4.quantized_parameters(model) == decoder_before // 4


def sft_lora(tmp_path, name: str, model: str, data, **hyper):
    hyper = {"epoch": 4, "loraTargetModules": ALL_LINEAR, **hyper}
    spec = make_spec(str(tmp_path / f"{name}.json"), model, data, str(tmp_path / name), scale="LoRA", **hyper)
    return run_finetune(spec)


def test_nf4_base_loss_curve_stays_close_to_the_full_precision_base(tmp_path):
    model = make_model_dir(str(tmp_path / "model"), initializer_range=0.2)
    data = make_data(str(tmp_path / "data"), "SFT", rows=64, seq_len=32)
    plain = sft_lora(tmp_path, "plain", model, data)
    quantized = sft_lora(tmp_path, "nf4", model, data, loraBaseQuantization="NF4")
    a, b = losses_of(plain), losses_of(quantized)
    steps = sorted(a)
    assert steps == sorted(b) == list(range(1, 65))
    last = [sum(x[s] for s in steps[-5:]) / 5 for x in (a, b)]
    evals = [[e["evalLoss"] for e in events if e["event"] == "eval"][-1] for events in (plain, quantized)]
    worst = max(abs(a[s] - b[s]) for s in steps)
    print(f"step 1 {a[1]:.4f} vs {b[1]:.4f}; last-5 {last[0]:.4f} vs {last[1]:.4f}; eval {evals[0]:.4f} vs "
          f"{evals[1]:.4f}; worst step |diff| {worst:.4f}")
    assert 0 < abs(a[1] - b[1]) < 0.05  # the base really is quantized, and close
    assert abs(last[0] - last[1]) < 0.1 and abs(evals[0] - evals[1]) < 0.1 and worst < 0.5
    assert last[1] < 0.8 * b[1]  # it learns
    started = [e for e in quantized if e["event"] == "started"][0]
    assert started["parameters"] == [e for e in plain if e["event"] == "started"][0]["parameters"]


def test_nf4_run_saves_a_peft_adapter_that_merges_into_the_full_precision_base(tmp_path):
    model = make_model_dir(str(tmp_path / "model"), model_type="qwen2", initializer_range=0.2)  # q/k/v biases
    data = make_data(str(tmp_path / "data"), "SFT", rows=16, seq_len=32)
    events = sft_lora(tmp_path, "nf4", model, data, loraBaseQuantization="NF4", epoch=1)
    checkpoint = events[-1]["outputs"]["lastCheckpoint"]
    assert sorted(f for f in os.listdir(checkpoint) if f.startswith("adapter")) == ["adapter_config.json",
                                                                                   "adapter_model.safetensors"]
    header, _, _ = safetensors.read_header(os.path.join(checkpoint, "adapter_model.safetensors"))
    assert header and all(".lora_A." in k or ".lora_B." in k for k in header)
    assert json.load(open(os.path.join(checkpoint, "adapter_config.json")))["peft_type"] == "LORA"
    out = str(tmp_path / "exported")
    run_export({"modelDir": model, "checkpoint": checkpoint, "outputDir": out}, str(tmp_path))
    adapted = load(model)
    lora.load_adapter(adapted, checkpoint)
    ids = torch.randint(0, 300, (2, 16), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert float((load(out)(ids) - adapted.eval()(ids)).abs().max()) <= 1e-4


def test_nf4_dpo_reference_is_the_quantized_base_and_an_nf4_adapter_continues(tmp_path):
    model = make_model_dir(str(tmp_path / "model"), initializer_range=0.2)
    dpo_data = make_data(str(tmp_path / "dpo"), "DPO", rows=16, seq_len=32)
    dpo = run_finetune(make_spec(str(tmp_path / "dpo.json"), model, dpo_data, str(tmp_path / "dpo-out"), mode="DPO",
                                 scale="LoRA", loraBaseQuantization="NF4"))
    assert abs(losses_of(dpo)[1] - 0.6931) < 1e-3 and dpo[-1]["event"] == "done"  # adapters off = the same NF4 base
    data = make_data(str(tmp_path / "data"), "SFT", rows=32, seq_len=32)
    first = sft_lora(tmp_path, "first", model, data, loraBaseQuantization="NF4", epoch=2)
    adapter = first[-1]["outputs"]["lastCheckpoint"]
    second = sft_lora(tmp_path, "second", model, data, loraBaseQuantization="NF4", epoch=1, initCheckpoint=adapter)
    assert second[-1]["event"] == "done"
    assert losses_of(second)[1] < losses_of(first)[1] - 0.5  # it starts where the adapter left off


def test_nf4_run_under_bf16_autocast_learns(tmp_path):
    model = make_model_dir(str(tmp_path / "model"), initializer_range=0.2)
    data = make_data(str(tmp_path / "data"), "SFT", rows=32, seq_len=32)
    events = sft_lora(tmp_path, "bf16", model, data, loraBaseQuantization="NF4", epoch=2, precision="bf16")
    losses = losses_of(events)
    assert events[-1]["event"] == "done" and events[0]["precision"] == "bf16"
    assert losses[max(losses)] < losses[1] - 0.2


def test_nf4_run_resumes_exactly(tmp_path):
    model = make_model_dir(str(tmp_path / "model"), initializer_range=0.2)
    data = make_data(str(tmp_path / "data"), "SFT", rows=40, seq_len=32)
    hyper = {"scale": "LoRA", "loraBaseQuantization": "NF4", "loraDropout": 0.1, "epoch": 2, "saveStep": 5,
             "loraTargetModules": ALL_LINEAR}

    def run(name, stop_after=0, **extra):
        spec = read_finetune_spec(make_spec(str(tmp_path / f"{name}.json"), model, data, str(tmp_path / name),
                                            **hyper, **extra))
        stop = StopFlag()
        sink = StopAfter(stop, stop_after) if stop_after else EventSink(stream=open(os.devnull, "w"), keep=True)
        finetune.run(spec, sink, stop)
        return sink.events

    full = run("a")
    stopped = run("b", stop_after=7)
    assert stopped[-1]["event"] == "stopped"
    resumed = run("b", resumeFrom=stopped[-1]["checkpoint"])
    a, b = losses_of(full), {**losses_of(stopped), **losses_of(resumed)}
    assert sorted(a) == sorted(b) == list(range(1, 21))
    assert max(abs(a[s] - b[s]) for s in a) <= 1e-5
    # a checkpoint of an NF4 run does not resume as a full-precision one (the spec digest differs)
    from sailfin_runtime.protocol import UserError
    hyper["loraBaseQuantization"] = "None"
    with pytest.raises(UserError, match="^resumeFrom:"):
        run("b", resumeFrom=stopped[-1]["checkpoint"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16_nf4_lora_matches_cpu():
    torch.manual_seed(0)
    base = nn.Linear(512, 256)
    cpu_layer = lora.LoRALinear(nf4.NF4Linear(base), r=8, alpha=16, dropout=0.0, scaling=2.0)
    nn.init.normal_(cpu_layer.lora_B.weight, std=0.02)
    gpu_layer = lora.LoRALinear(nf4.NF4Linear(nn.Linear(512, 256).cuda()), r=8, alpha=16, dropout=0.0, scaling=2.0)
    gpu_layer.load_state_dict(cpu_layer.state_dict())
    assert torch.equal(nf4.quantize(base.weight.cuda())["qweight"].cpu(), cpu_layer.quantized.qweight)
    x = torch.randn(4, 512)
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        out = gpu_layer(x.cuda())
    out.float().sum().backward()
    assert gpu_layer.lora_A.weight.grad is not None
    ref = cpu_layer(x)
    assert float((out.float().cpu() - ref).abs().max()) < 0.05 * float(ref.abs().max())
