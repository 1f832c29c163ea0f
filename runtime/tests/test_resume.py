"""Exact resume: N steps, stop, resume to 2N == 2N steps uninterrupted (losses to 1e-5, fp32 CPU)."""

from __future__ import annotations

import json
import os

import pytest

from helpers import StopAfter, losses_of, make_data, make_model_dir, make_spec
from sailfin_runtime.io import safetensors
from sailfin_runtime.protocol import EventSink, StopFlag, UserError
from sailfin_runtime.recipes import finetune
from sailfin_runtime.spec import read_finetune_spec


def run(spec_path: str, stop_after: int = 0):
    stop = StopFlag()
    events = StopAfter(stop, stop_after) if stop_after else EventSink(stream=open(os.devnull, "w"), keep=True)
    finetune.run(read_finetune_spec(spec_path), events, stop)
    return events.events


CASES = {
    # 40 rows, batch 4 x accumulation 2 -> 5 steps per epoch, 3 epochs = 15 steps; stop at 7 (mid-epoch 2)
    "sft_full_accumulation": ("SFT", "FullFineTuning", {"gradientAccumulationSteps": 2, "epoch": 3}),
    "sft_lora_dropout": ("SFT", "LoRA", {"loraDropout": 0.1, "gradientAccumulationSteps": 2, "epoch": 3}),
    "dpo_full": ("DPO", "FullFineTuning", {"learningRate": 3e-3, "epoch": 3, "batchSize": 2, "gradientAccumulationSteps": 2}),
    "kto_lora": ("KTO", "LoRA", {"loraDropout": 0.1, "epoch": 3, "gradientAccumulationSteps": 2}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_resumed_run_reproduces_uninterrupted_losses(tmp_path, name):
    mode, scale, hyper = CASES[name]
    model = make_model_dir(str(tmp_path / "model"), initializer_range=0.2 if scale == "LoRA" else 0.02)
    data = make_data(str(tmp_path / "data"), mode, rows=40, seq_len=32)
    hyper = {"saveStep": 5, "checkpointCount": 3, **hyper}

    full = run(make_spec(str(tmp_path / "a.json"), model, data, str(tmp_path / "a"), mode, scale, **hyper))
    stopped = run(make_spec(str(tmp_path / "b.json"), model, data, str(tmp_path / "b"), mode, scale, **hyper), stop_after=7)
    assert stopped[-1]["event"] == "stopped" and stopped[-1]["step"] == 7
    checkpoint = stopped[-1]["checkpoint"]
    assert checkpoint.endswith("step_000007")
    resumed = run(make_spec(str(tmp_path / "b.json"), model, data, str(tmp_path / "b"), mode, scale,
                            resumeFrom=checkpoint, **hyper))

    started = resumed[0]
    assert started["event"] == "started" and started["resumedFromStep"] == 7
    a, b = losses_of(full), {**losses_of(stopped), **losses_of(resumed)}
    assert sorted(a) == sorted(b) == list(range(1, 16))
    worst = max(abs(a[s] - b[s]) for s in a)
    print(f"{name}: max |loss diff| over 15 steps = {worst:.2e}")
    assert worst <= 1e-5
    final_a = json.load(open(os.path.join(full[-1]["outputs"]["lastCheckpoint"], "trainer_state.json")))
    final_b = json.load(open(os.path.join(resumed[-1]["outputs"]["lastCheckpoint"], "trainer_state.json")))
    assert final_a["trainedTokens"] == final_b["trainedTokens"]
    weights = "adapter_model.safetensors" if scale == "LoRA" else "model.safetensors"
    wa = safetensors.load_file(os.path.join(full[-1]["outputs"]["lastCheckpoint"], weights))
    wb = safetensors.load_file(os.path.join(resumed[-1]["outputs"]["lastCheckpoint"], weights))
    assert max(float((wa[k] - wb[k]).abs().max()) for k in wa) <= 1e-6


def test_resume_refuses_a_checkpoint_of_another_spec(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=16)
    events = run(make_spec(str(tmp_path / "a.json"), model, data, str(tmp_path / "a"), saveStep=2))
    checkpoint = events[-1]["outputs"]["lastCheckpoint"]
    spec = make_spec(str(tmp_path / "b.json"), model, data, str(tmp_path / "a"), learningRate=5e-3, resumeFrom=checkpoint)
    with pytest.raises(UserError, match="resumeFrom: .*different spec"):
        run(spec)


def test_resume_at_the_last_step_finishes_without_training(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=16)
    spec = make_spec(str(tmp_path / "a.json"), model, data, str(tmp_path / "a"))
    last = run(spec)[-1]["outputs"]["lastCheckpoint"]
    spec = make_spec(str(tmp_path / "a.json"), model, data, str(tmp_path / "a"), resumeFrom=last)
    events = run(spec)
    assert [e["event"] for e in events] == ["started", "done"]
    assert events[-1]["outputs"]["lastCheckpoint"] == last
