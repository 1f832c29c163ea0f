"""Spec validation names the field; schedule, weight-decay groups and data order behave as documented."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from helpers import make_data, make_model_dir, make_spec, run_finetune
from sailfin_runtime.data import DataOrder
from sailfin_runtime.io.shards import Split
from sailfin_runtime.models.decoder import CausalLM, ModelConfig
from sailfin_runtime.optim import lr_multiplier, param_groups, warmup_steps
from sailfin_runtime.protocol import UserError
from sailfin_runtime.spec import read_export_spec, read_finetune_spec
from helpers import tiny_config


@pytest.fixture()
def base_spec(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=8)
    path = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"))
    with open(path) as f:
        return path, json.load(f)


def with_changes(path, spec, **changes):
    spec = json.loads(json.dumps(spec))
    for dotted, value in changes.items():
        target = spec
        *parents, leaf = dotted.split("__")
        for p in parents:
            target = target[p]
        if value is KeyError:
            target.pop(leaf)
        else:
            target[leaf] = value
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


@pytest.mark.parametrize("changes,field", [
    ({"version": 2}, "version"),
    ({"trainMode": "RLHF"}, "trainMode"),
    ({"parameterScale": "PromptTuning"}, "parameterScale"),
    ({"modelDir": KeyError}, "modelDir"),
    ({"modelDir": "relative/model"}, "modelDir"),
    ({"modelDir": "/nonexistent/model"}, "modelDir"),
    ({"data": None}, "data"),
    ({"data__train": "/nonexistent/train"}, "data.train"),
    ({"hyper__learningRate": 0}, "hyper.learningRate"),
    ({"hyper__batchSize": 2.5}, "hyper.batchSize"),
    ({"hyper__epoch": True}, "hyper.epoch"),
    ({"hyper__schedulerName": "polynomial"}, "hyper.schedulerName"),
    ({"hyper__warmupRatio": 1.5}, "hyper.warmupRatio"),
    ({"parameterScale": "LoRA", "hyper__loraTargetModules": ["attn"]}, "hyper.loraTargetModules"),
    ({"parameterScale": "LoRA", "hyper__loraRank": 0}, "hyper.loraRank"),
    ({"parameterScale": "LoRA", "hyper__loraBaseQuantization": "int4"}, "hyper.loraBaseQuantization"),
    ({"trainMode": "DPO", "hyper__dpoBeta": -1}, "hyper.dpoBeta"),
    ({"precision": "fp16"}, "precision"),
])
def test_bad_fields_are_named(base_spec, changes, field):
    path, spec = base_spec
    with pytest.raises(UserError) as info:
        read_finetune_spec(with_changes(path, spec, **changes))
    assert str(info.value).startswith(field + ":"), str(info.value)


def test_defaults_and_accumulation_zero(base_spec):
    path, spec = base_spec
    parsed = read_finetune_spec(with_changes(path, spec, hyper__gradientAccumulationSteps=0, hyper__seed=KeyError))
    assert parsed.hyper.gradientAccumulationSteps == 1 and parsed.hyper.seed == 42


def test_export_spec_needs_the_checkpoint(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"version": 1, "modelDir": model, "checkpoint": str(tmp_path / "nope"), "outputDir": str(tmp_path / "o")}))
    with pytest.raises(UserError, match="^checkpoint:"):
        read_export_spec(str(path))


def test_unknown_device_is_a_user_error(base_spec):
    path, spec = base_spec
    with pytest.raises(UserError, match="^device:"):
        run_finetune(with_changes(path, spec, device="tpu"))


def test_schedules_match_transformers_formulas():
    total, warmup = 100, warmup_steps(100, 0.1)
    assert warmup == 10
    cosine, linear, constant = (lr_multiplier(n, warmup, total) for n in ("cosine", "linear", "constant"))
    assert cosine(0) == 0.0 and cosine(5) == 0.5 and cosine(10) == 1.0
    assert cosine(55) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert linear(55) == pytest.approx(0.5) and linear(100) == 0.0
    assert constant(5) == 0.5 and constant(99) == 1.0


def test_norms_and_biases_get_no_weight_decay():
    model = CausalLM(ModelConfig.from_dict(tiny_config("qwen2", tied=True)))
    decay, no_decay = param_groups(model, 0.01)
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decay["params"]) and all(p.ndim == 1 for p in no_decay["params"])
    names = {id(p): n for n, p in model.named_parameters()}
    assert {names[id(p)].rsplit(".", 1)[-1] for p in no_decay["params"]} == {"weight", "bias"}
    assert any(names[id(p)].endswith("norm.weight") for p in no_decay["params"])
    total = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for g in (decay, no_decay) for p in g["params"]) == total  # tied weight once


def test_data_order_is_a_per_epoch_permutation(tmp_path):
    data = make_data(str(tmp_path / "data"), "SFT", rows=10, validation=False)
    order = DataOrder(Split(data["train"], "data.train"), batch_size=2, accumulation=2, seed=7)
    assert order.steps_per_epoch == 3
    epoch0 = np.concatenate([np.concatenate(order.micro_batches(s)) for s in range(3)])
    epoch1 = np.concatenate([np.concatenate(order.micro_batches(s)) for s in range(3, 6)])
    assert sorted(epoch0) == sorted(epoch1) == list(range(10))
    assert not np.array_equal(epoch0, epoch1)
    again = DataOrder(Split(data["train"], "data.train"), batch_size=2, accumulation=2, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(again.micro_batches(4), order.micro_batches(4)))
    assert [len(m) for m in order.micro_batches(2)] == [2]  # the last step of an epoch is short


def test_bf16_autocast_run_learns(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=64)
    events = run_finetune(make_spec(str(tmp_path / "s.json"), model, data, str(tmp_path / "out"), precision="bf16", epoch=2))
    assert events[0]["precision"] == "bf16"
    losses = [e["loss"] for e in events if e["event"] == "metrics"]
    assert sum(losses[-5:]) / 5 < 0.9 * losses[0]
