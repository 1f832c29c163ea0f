"""Weight-only quantization: formats, error bounds, quantized folders, the ``quantize`` recipe.

Tolerances (tiny random models from helpers, fp32, logits on 8 x 32 random tokens):

- int8 weights: every element within ``absmax(row) / 254`` of the source (half a scale;
  fp32 scales are exact). bf16 scales are rounded up, so within half the stored scale.
- int8 model: max |Δlogit| < 0.1 x std(source logits) and top-1 agreement >= 97%.
  Measured over seeds 0-4, Llama and Qwen2: at most 0.030 x std, agreement >= 99.2%.
- int4 model (group 32 here: hidden 32): max |Δlogit| < 1.0 x std, RMS |Δlogit| < 0.1 x
  std, top-1 agreement >= 80%. Measured: max 0.45 x std, RMS 0.052 x std, agreement >= 89%.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from helpers import make_data, make_model_dir, make_spec, run_finetune, start_runtime
from protocol_schema import check_event
from sailfin_runtime.io import safetensors
from sailfin_runtime.models import quant
from sailfin_runtime.models.decoder import CausalLM, ModelConfig
from sailfin_runtime.models.loading import load_model
from sailfin_runtime.protocol import EventSink, StopFlag, UserError
from sailfin_runtime.spec import read_quantize_spec

CPU = torch.device("cpu")


def finish(proc, timeout=120):
    """Exit code, events (each checked against schema/events.json), stderr."""
    out, err = proc.communicate(timeout=timeout)
    events = [json.loads(line) for line in out.splitlines()]
    for event in events:
        check_event(event)
    return proc.returncode, events, err


def quantize_in_process(folder, model_dir, bits, stop=None, **extra):
    from sailfin_runtime.recipes import quantize

    spec = {"version": 1, "modelDir": model_dir, "outputDir": os.path.join(folder, f"int{bits}"), "bits": bits,
            "groupSize": 128, **extra}
    path = os.path.join(folder, f"quantize-{bits}.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    events = EventSink(stream=open(os.devnull, "w"), keep=True)
    quantize.run(read_quantize_spec(path), events, stop or StopFlag())
    return events.events, spec["outputDir"]


def logits(model, ids):
    with torch.no_grad():
        return model(ids)


# ------------------------------------------------------------------ formats and bounds


def test_int8_elements_within_half_a_step_of_the_source():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(48, 96, generator=gen) * 0.02
    w[3] = 0.0  # an all-zero row must not divide by zero
    w[5, 7] = 0.9  # an outlier widens only its own row's scale
    q = quant.quantize_int8(w)
    assert q.qweight.dtype == torch.int8 and q.scales.dtype == torch.float32 and q.scales.shape == (48,)
    assert int(q.qweight.abs().max()) == 127
    error = (quant.dequantize(q.qweight, q.scales, 8, torch.float32) - w).abs()
    bound = w.abs().amax(dim=1, keepdim=True) / 254
    assert bool((error <= bound * (1 + 1e-6)).all())
    assert float(error[3].max()) == 0.0
    assert float(error[4].max()) < float(error[5].max())  # the outlier row is coarser, the others are not


def test_bf16_scales_are_rounded_up_so_nothing_clips():
    w = (torch.randn(64, 128, generator=torch.Generator().manual_seed(1)) * 0.02).to(torch.bfloat16)
    for bits, group in ((8, 128), (4, 64)):
        q = quant.quantize_weight(w, bits, group)
        assert q.scales.dtype == torch.bfloat16
        scales = q.scales.float().reshape(64, -1)  # [rows, groups]
        absmax = w.float().abs().reshape(64, -1, group).amax(dim=2)
        assert bool((scales >= absmax / quant._QMAX[bits]).all())
        error = (quant.dequantize(q.qweight, q.scales, bits, torch.float32) - w.float()).abs()
        half_step = (scales / 2).repeat_interleave(group, dim=1)
        assert bool((error <= half_step * (1 + 1e-6)).all())


def test_int4_packing_groups_and_error_bound():
    q = torch.randint(-7, 8, (5, 12), generator=torch.Generator().manual_seed(2))
    packed = quant.pack_int4(q)
    assert packed.dtype == torch.uint8 and packed.shape == (5, 6)
    assert int(packed[0, 0]) == int(q[0, 0] + 8) | (int(q[0, 1] + 8) << 4)  # column 2j low, 2j + 1 high
    assert torch.equal(quant.unpack_int4(packed).long() - 8, q)

    assert quant.group_size_for(896, 128) == 128 and quant.group_size_for(4864, 128) == 128
    assert quant.group_size_for(96, 128) == 96 and quant.group_size_for(160, 128) == 80

    w = torch.randn(16, 160, generator=torch.Generator().manual_seed(3)) * 0.02
    r = quant.quantize_int4(w, 128)
    assert r.group_size == 80 and r.scales.shape == (16, 2) and r.qweight.shape == (16, 80)
    error = (quant.dequantize(r.qweight, r.scales, 4, torch.float32) - w).abs().reshape(16, 2, 80)
    bound = w.abs().reshape(16, 2, 80).amax(dim=2, keepdim=True) / 14
    assert bool((error <= bound * (1 + 1e-6)).all())
    with pytest.raises(UserError, match="odd"):
        quant.quantize_int4(torch.randn(4, 7), 128)


def test_safetensors_round_trips_int8_and_uint8(tmp_path):
    tensors = {"a.qweight": torch.randint(-127, 128, (3, 5), dtype=torch.int8),
               "b.qweight": torch.randint(0, 256, (3, 4), dtype=torch.uint8), "a.scales": torch.rand(3)}
    path = str(tmp_path / "q.safetensors")
    safetensors.save_file(tensors, path)
    header, _, _ = safetensors.read_header(path)
    assert header["a.qweight"]["dtype"] == "I8" and header["b.qweight"]["dtype"] == "U8"
    loaded = safetensors.load_file(path)
    assert all(torch.equal(loaded[k], v) and loaded[k].dtype == v.dtype for k, v in tensors.items())


# ------------------------------------------------------------------ quantized models


@pytest.mark.parametrize("model_type", ["llama", "qwen2"])
def test_quantized_logits_stay_close_to_the_source(tmp_path, model_type):
    src = make_model_dir(str(tmp_path / "src"), model_type, seed=1)
    source = load_model(src, CPU, torch.float32)
    ids = torch.randint(0, 300, (8, 32), generator=torch.Generator().manual_seed(1))
    ref = logits(source, ids)
    std = float(ref.std())
    for bits, max_bound, rms_bound, agreement in ((8, 0.1, 0.02, 0.97), (4, 1.0, 0.1, 0.80)):
        events, out = quantize_in_process(str(tmp_path), src, bits)
        model = load_model(out, CPU, torch.float32)
        kinds = {type(m).__name__ for m in model.model.layers.modules()}
        assert "QuantLinear" in kinds and "Linear" not in kinds  # every decoder linear is quantized
        got = logits(model, ids)
        diff = got - ref
        top1 = float((got.argmax(-1) == ref.argmax(-1)).float().mean())
        print(f"{model_type} int{bits}: max {float(diff.abs().max()) / std:.3f} std, "
              f"rms {float(diff.pow(2).mean().sqrt()) / std:.4f} std, top-1 {top1:.3f}")
        assert float(diff.abs().max()) < max_bound * std
        assert float(diff.pow(2).mean().sqrt()) < rms_bound * std
        assert top1 >= agreement
        assert float(diff.abs().max()) > 0  # really quantized


def test_quantized_folder_keeps_embeddings_and_biases_and_generates(tmp_path):
    from sailfin_runtime.generation import Settings, generate

    src = make_model_dir(str(tmp_path / "src"), "qwen2", tied=True, seed=2)  # q/k/v biases, tied lm_head
    with torch.no_grad():  # non-zero biases, so dropping them would show
        weights = safetensors.load_file(os.path.join(src, "model.safetensors"))
        weights = {k: (v + 0.05 if k.endswith(".bias") else v.clone()) for k, v in weights.items()}
        safetensors.save_file(weights, os.path.join(src, "model.safetensors"))
    _, out = quantize_in_process(str(tmp_path), src, 4)
    header, _, _ = safetensors.read_header(os.path.join(out, "model.safetensors"))
    assert header["model.embed_tokens.weight"]["dtype"] == "F32" and "lm_head.weight" not in header
    assert header["model.layers.0.self_attn.q_proj.qweight"]["dtype"] == "U8"
    assert header["model.layers.0.self_attn.q_proj.bias"]["dtype"] == "F32"
    assert "model.layers.0.self_attn.q_proj.weight" not in header
    config = json.load(open(os.path.join(out, "config.json")))
    section = config["quantization"]
    assert section["method"] == "sailfin-weight-only" and section["bits"] == 4 and section["groupSize"] == 128
    assert section["scheme"] == "W4A16C16" and len(section["modules"]) == 14
    assert os.path.isfile(os.path.join(out, "tokenizer.json")) and os.path.isfile(os.path.join(out, "tokenizer_config.json"))

    model = load_model(out, CPU, torch.float32)
    assert model.lm_head.weight is model.model.embed_tokens.weight
    assert torch.equal(model.model.layers[0].self_attn.q_proj.bias, weights["model.layers.0.self_attn.q_proj.bias"])
    prompts = [[5, 6, 7, 8, 9], [11, 12]]
    settings = Settings(max_new_tokens=6)
    cached = generate(model, prompts, settings, [None, None])
    alone = [generate(model, [p], settings, [None], use_cache=False)[0] for p in prompts]
    assert [g.ids for g in cached] == [g.ids for g in alone] and all(len(g.ids) == 6 for g in cached)

    with pytest.raises(UserError, match="quantized"):  # training code refuses it with a clear message
        CausalLM(ModelConfig.from_dir(out)).load_hf_state_dict(safetensors.load_model_folder(out), "modelDir")


def test_perplexity_is_the_finetune_recipes_and_stop_between_modules(tmp_path):
    src = make_model_dir(str(tmp_path / "src"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=32)
    events, _ = quantize_in_process(str(tmp_path), src, 8, evalSplit=data["validation"], evalMaxRows=64)
    outputs = events[-1]["outputs"]
    # A finetune step with a negligible learning rate evaluates (nearly) the source weights.
    spec = make_spec(str(tmp_path / "ft.json"), src, data, str(tmp_path / "ft"), learningRate=1e-12, epoch=1,
                     batchSize=32, weightDecay=0.0)
    finetune_eval = [e for e in run_finetune(spec) if e["event"] == "eval"][-1]
    assert outputs["perplexityBefore"] == pytest.approx(finetune_eval["perplexity"], rel=1e-6)
    assert abs(np.log(outputs["perplexityAfter"] / outputs["perplexityBefore"])) < 0.01

    class StopAfterFirstLayer(EventSink):
        def emit(self, event, **fields):
            record = super().emit(event, **fields)
            if event == "progress":
                stop.requested = True
            return record

    from sailfin_runtime.recipes import quantize

    stop = StopFlag()
    spec_path = str(tmp_path / "stop.json")
    with open(spec_path, "w") as f:
        json.dump({"version": 1, "modelDir": src, "outputDir": str(tmp_path / "stopped"), "bits": 4}, f)
    sink = StopAfterFirstLayer(stream=open(os.devnull, "w"), keep=True)
    quantize.run(read_quantize_spec(spec_path), sink, stop)
    assert [e["event"] for e in sink.events] == ["progress", "stopped"]
    assert sink.events[-1]["done"] == 7 and sink.events[-1]["total"] == 14
    assert not os.path.exists(str(tmp_path / "stopped" / "config.json"))


# ------------------------------------------------------------------ the recipe as the worker runs it


def _layer_bytes(folder, suffixes):
    header, _, _ = safetensors.read_header(os.path.join(folder, "model.safetensors"))
    return sum(e["data_offsets"][1] - e["data_offsets"][0] for k, e in header.items()
               if ".layers." in k and "_proj." in k and k.endswith(suffixes))


def test_quantize_process_reports_sizes_and_perplexities(tmp_path):
    src = make_model_dir(str(tmp_path / "src"), hidden_size=64, intermediate_size=128)
    data = make_data(str(tmp_path / "data"), "SFT", rows=32)
    source_layer_bytes = _layer_bytes(src, (".weight",))
    for bits, scheme, ratio in ((8, "W8A16C16", 0.3), (4, "W4A16C16", 0.17)):
        spec = str(tmp_path / f"q{bits}.json")
        out = str(tmp_path / f"out{bits}")
        with open(spec, "w") as f:
            json.dump({"version": 1, "modelDir": src, "outputDir": out, "bits": bits, "groupSize": 128,
                       "scheme": scheme, "evalSplit": data["validation"], "evalMaxRows": 64}, f)
        code, events, err = finish(start_runtime(["quantize", "--spec", spec]))
        assert code == 0, err
        kinds = [e["event"] for e in events]
        assert kinds[-1] == "done" and kinds.count("progress") >= 2
        progress = [e for e in events if e["event"] == "progress"]
        assert progress[-1]["done"] == progress[-1]["total"] and "step" not in progress[-1]
        o = events[-1]["outputs"]
        assert o["modelDir"] == out and o["quantizedModules"] == 14 and o["seconds"] > 0
        assert o["sizeBefore"] == os.path.getsize(os.path.join(src, "model.safetensors"))
        assert o["sizeAfter"] == os.path.getsize(os.path.join(out, "model.safetensors")) < o["sizeBefore"]
        # int8: 1 byte per weight + a 4-byte scale per row = 0.25 + 1/in of fp32; int4: 0.125 + 1/group.
        quantized_bytes = _layer_bytes(out, (".qweight", ".scales"))
        assert quantized_bytes < ratio * source_layer_bytes, (bits, quantized_bytes / source_layer_bytes)
        assert o["perplexityBefore"] > 1 and o["perplexityAfter"] > 1
        assert json.load(open(os.path.join(out, "config.json")))["quantization"]["groupSize"] == (None if bits == 8 else 128)


def test_bad_quantize_specs_are_user_errors(tmp_path):
    src = make_model_dir(str(tmp_path / "src"))
    cases = [({"bits": 5}, "bits"), ({"bits": 8, "scheme": "W4A16C16"}, "scheme"),
             ({"bits": 4, "outputDir": src}, "outputDir"), ({"bits": 8, "evalMaxRows": 0}, "evalMaxRows")]
    for extra, field in cases:
        spec = str(tmp_path / "bad.json")
        with open(spec, "w") as f:
            json.dump({"version": 1, "modelDir": src, "outputDir": str(tmp_path / "out"), **extra}, f)
        code, events, _ = finish(start_runtime(["quantize", "--spec", spec]))
        assert code == 2 and events[-1]["kind"] == "user" and events[-1]["message"].startswith(f"{field}:"), events
