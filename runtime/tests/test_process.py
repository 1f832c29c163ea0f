"""The runtime as the worker sees it: a child process, JSON lines on stdout, exit codes, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np

from helpers import make_data, make_model_dir, make_spec, start_runtime, write_split
from protocol_schema import check_event

def parse_events(stdout: str):
    """Every stdout line must be one JSON object, an event as schema/events.json describes it."""
    events = []
    for line in stdout.splitlines():
        event = json.loads(line)
        assert isinstance(event, dict), line
        assert isinstance(event["time"], (int, float)) and abs(event["time"] - time.time()) < 600, line
        check_event(event)
        events.append(event)
    return events


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, parse_events(out), err


def test_finetune_process_emits_protocol_events_and_exits_0(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=32)
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"), saveStep=4, loggingSteps=2)
    code, events, err = finish(start_runtime(["finetune", "--spec", spec]))
    assert code == 0, err
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "done"
    assert kinds.count("metrics") == 4 and kinds.count("checkpoint") == 2 and kinds.count("eval") == 2
    started = events[0]
    assert started["totalSteps"] == 8 and started["trainRows"] == 32 and started["device"] == "cpu"
    assert started["precision"] == "fp32" and started["resumedFromStep"] == 0
    metrics = [e for e in events if e["event"] == "metrics"]
    assert [m["step"] for m in metrics] == [2, 4, 6, 8]
    assert all(m["tokensPerSecond"] > 0 and m["loss"] > 0 for m in metrics)
    assert metrics[-1]["trainedTokens"] == started["trainedTokensPerEpoch"]  # one epoch
    done = events[-1]
    assert os.path.isdir(done["outputs"]["lastCheckpoint"]) and done["outputs"]["lastCheckpoint"].endswith("step_000008")
    assert "[sailfin_runtime]" in err  # logs go to stderr


def test_sigterm_mid_run_saves_a_checkpoint_and_exits_0(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=64)
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"), epoch=500, saveStep=100000)
    proc = start_runtime(["finetune", "--spec", spec])
    lines = []
    for line in proc.stdout:  # wait until training is really under way
        lines.append(line)
        if '"event":"metrics"' in line and json.loads(line)["step"] >= 3:
            break
    proc.send_signal(signal.SIGTERM)
    code, events, err = finish(proc, timeout=60)
    events = parse_events("".join(lines)) + events
    assert code == 0, err
    stopped = events[-1]
    assert stopped["event"] == "stopped", events[-3:]
    assert 3 <= stopped["step"] < events[0]["totalSteps"]
    checkpoint = stopped["checkpoint"]
    assert checkpoint.endswith(f"step_{stopped['step']:06d}")
    assert os.path.isfile(os.path.join(checkpoint, "trainer_state.json"))
    assert os.path.isfile(os.path.join(checkpoint, "model.safetensors"))
    assert [e for e in events if e["event"] == "checkpoint"][-1]["path"] == checkpoint
    assert "SIGTERM" in err


def test_bad_spec_is_a_user_error_naming_the_field(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=8)
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"), learningRate=-1)
    code, events, _ = finish(start_runtime(["finetune", "--spec", spec]))
    assert code == 2
    assert [e["event"] for e in events] == ["error"]
    assert events[0]["kind"] == "user" and events[0]["message"].startswith("hyper.learningRate:")


def test_token_ids_outside_the_vocabulary_are_a_user_error(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))  # vocab 300
    ids = np.full((4, 16), 5)
    ids[2, 3] = 300
    data = {"train": write_split(str(tmp_path / "train"), "packed", ids, np.ones_like(ids), np.ones_like(ids)),
            "validation": None}
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"))
    code, events, _ = finish(start_runtime(["finetune", "--spec", spec]))
    assert code == 2 and events[-1]["kind"] == "user"
    assert "data.train" in events[-1]["message"] and "vocab_size 300" in events[-1]["message"]


def test_wrong_shard_kind_and_bad_usage_are_user_errors(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=8)
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"), mode="DPO")
    code, events, _ = finish(start_runtime(["finetune", "--spec", spec]))
    assert code == 2 and "DPO needs preference shards" in events[-1]["message"]
    code, events, _ = finish(start_runtime(["train", "--spec", spec]))
    assert code == 2 and events[-1]["kind"] == "user" and "usage" in events[-1]["message"]


def test_unexpected_failure_is_a_system_error(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=8)
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"))
    code, events, _ = finish(start_runtime(["finetune", "--spec", spec]))
    checkpoint = events[-1]["outputs"]["lastCheckpoint"]
    with open(os.path.join(checkpoint, "optimizer.pt"), "wb") as f:
        f.write(b"not a pickle")
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"), resumeFrom=checkpoint)
    code, events, err = finish(start_runtime(["finetune", "--spec", spec]))
    assert code == 1, err
    assert events[-1]["event"] == "error" and events[-1]["kind"] == "system" and events[-1]["message"]


def test_export_process_emits_done_with_the_model_dir(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=8)
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"), scale="LoRA")
    code, events, _ = finish(start_runtime(["finetune", "--spec", spec]))
    export_spec = tmp_path / "export.json"
    out = str(tmp_path / "published")
    export_spec.write_text(json.dumps({"version": 1, "modelDir": model, "checkpoint": events[-1]["outputs"]["lastCheckpoint"],
                                       "outputDir": out}))
    code, events, err = finish(start_runtime(["export", "--spec", str(export_spec)]))
    assert code == 0, err
    assert events[-1]["event"] == "done" and events[-1]["outputs"] == {"modelDir": out} and events[-1]["step"] == 2
    assert os.path.isfile(os.path.join(out, "model.safetensors")) and os.path.isfile(os.path.join(out, "tokenizer.json"))
