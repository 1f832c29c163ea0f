"""Data parallelism: 2 CPU ranks (gloo) through ``python3 -m sailfin_runtime launch``.

CI runs this file twice: with Debian's torch 1.13 (every run keeps whole replicas) and
with PyPI's torch 2.x (scripts/setup-torch2-venv.sh), where full fine-tuning is sharded
with FSDP2; the same losses, resumes and failures must hold on both.

The global batch is the spec's at every world size, so 2 ranks must train the losses
of 1 process (up to float summation order), checkpoints must resume at any world size,
SIGTERM must stop both ranks after the same step, a dead rank must fail the run, and a
dead launcher must leave no rank behind.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from helpers import losses_of, make_data, make_model_dir, make_spec, run_finetune, start_runtime
from protocol_schema import check_event
from sailfin_runtime.io.checkpoint import list_checkpoints, read_state

TOLERANCE = 1e-5  # fp32: only the order of gradient additions differs between 1 and 2 ranks


def launch(spec: str, nproc: int = 2):
    return start_runtime(["launch", "--nproc", str(nproc), "finetune", "--spec", spec])


def events_of(stdout: str):
    """Every stdout line is one event of schema/events.json (rank 0's alone: one started, one end)."""
    events = [json.loads(line) for line in stdout.splitlines()]
    for event in events:
        check_event(event)
    return events


def finish(proc, timeout=180):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, events_of(out), err


def assert_same_losses(actual, expected, steps):
    assert sorted(actual) == steps, actual
    for step in steps:
        assert abs(actual[step] - expected[step]) < TOLERANCE, (step, actual[step], expected[step])


def setup_case(tmp_path, mode: str, scale: str, **hyper):
    """40 rows, batch 4 x accumulation 2 -> 5 steps per epoch, 3 epochs = 15 steps, checkpoints at 5, 10, 15."""
    model = make_model_dir(str(tmp_path / "model"), initializer_range=0.2 if scale == "LoRA" else 0.02)
    data = make_data(str(tmp_path / "data"), mode, rows=40, seq_len=32)
    hyper = {"gradientAccumulationSteps": 2, "epoch": 3, "saveStep": 5, "checkpointCount": 3, **hyper}

    def spec(name: str, **extra) -> str:
        return make_spec(str(tmp_path / f"{name}.json"), model, data, str(tmp_path / name), mode, scale,
                         **hyper, **extra)

    return spec


def test_two_ranks_train_the_losses_of_one_and_checkpoints_resume_at_either_size(tmp_path):
    spec = setup_case(tmp_path, "SFT", "FullFineTuning")
    single = run_finetune(spec("single"))
    code, double, err = finish(launch(spec("double")))
    assert code == 0, err
    kinds = [e["event"] for e in double]
    assert kinds[0] == "started" and kinds[-1] == "done" and kinds.count("started") == 1, kinds
    assert kinds.count("checkpoint") == 3 and kinds.count("metrics") == 15
    assert "rank 1 of 2" in err
    expected = losses_of(single)
    assert_same_losses(losses_of(double), expected, list(range(1, 16)))
    started = double[0]
    assert started["trainedTokensPerEpoch"] == single[0]["trainedTokensPerEpoch"]
    assert [e["trainedTokens"] for e in double if e["event"] == "metrics"] == \
        [e["trainedTokens"] for e in single if e["event"] == "metrics"]  # counted over both ranks

    # A checkpoint of 2 ranks resumes in 1 process, and one of 1 process in 2 ranks.
    two_to_one = run_finetune(spec("double", resumeFrom=str(tmp_path / "double/checkpoints/step_000005")))
    assert two_to_one[0]["resumedFromStep"] == 5
    assert_same_losses(losses_of(two_to_one), expected, list(range(6, 16)))
    code, one_to_two, err = finish(launch(spec("single", resumeFrom=str(tmp_path / "single/checkpoints/step_000010"))))
    assert code == 0, err
    assert one_to_two[0]["resumedFromStep"] == 10
    assert_same_losses(losses_of(one_to_two), expected, list(range(11, 16)))


def test_two_lora_ranks_train_the_losses_of_one_kto_and_resume_at_either_size(tmp_path):
    # KTO: each micro-batch's reference point is its own, so ranks must get whole micro-batches.
    # LoRA keeps whole replicas on every torch (no FSDP): its checkpoints resume at any size too.
    spec = setup_case(tmp_path, "KTO", "LoRA", epoch=2)
    single = run_finetune(spec("single"))
    code, double, err = finish(launch(spec("double")))
    assert code == 0, err
    assert double[-1]["event"] == "done"
    assert "FSDP2" not in err
    expected = losses_of(single)
    assert_same_losses(losses_of(double), expected, list(range(1, 11)))
    assert os.path.isfile(str(tmp_path / "double/checkpoints/step_000005/adapter_model.safetensors"))
    two_to_one = run_finetune(spec("double", resumeFrom=str(tmp_path / "double/checkpoints/step_000005")))
    assert_same_losses(losses_of(two_to_one), expected, list(range(6, 11)))
    code, one_to_two, err = finish(launch(spec("single", resumeFrom=str(tmp_path / "single/checkpoints/step_000005"))))
    assert code == 0, err
    assert_same_losses(losses_of(one_to_two), expected, list(range(6, 11)))


def test_uneven_accumulation_still_matches(tmp_path):
    # 3 micro-batches on 2 ranks: rank 1 trains one, rank 0 two; the last step of the epoch has fewer.
    spec = setup_case(tmp_path, "SFT", "FullFineTuning", gradientAccumulationSteps=3, epoch=1, batchSize=3)
    single = run_finetune(spec("single"))
    code, double, err = finish(launch(spec("double")))
    assert code == 0, err
    assert_same_losses(losses_of(double), losses_of(single), sorted(losses_of(single)))


def read_until_step(proc, step: int):
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if '"event":"metrics"' in line and json.loads(line)["step"] >= step:
            return lines
    raise AssertionError(f"the run ended before step {step}: {lines[-3:]}")


def test_sigterm_stops_both_ranks_after_the_same_step_with_one_checkpoint(tmp_path):
    spec = setup_case(tmp_path, "SFT", "FullFineTuning", epoch=500, saveStep=100000)
    proc = launch(spec("run"))
    lines = read_until_step(proc, 3)
    proc.send_signal(signal.SIGTERM)
    code, events, err = finish(proc, timeout=60)
    events = events_of("".join(lines)) + events
    assert code == 0, err
    stopped = events[-1]
    assert stopped["event"] == "stopped", events[-3:]
    assert 3 <= stopped["step"] < events[0]["totalSteps"]
    assert os.listdir(str(tmp_path / "run/checkpoints")) == [f"step_{stopped['step']:06d}"]
    assert stopped["checkpoint"].endswith(f"step_{stopped['step']:06d}")
    for rank in (0, 1):
        assert f"[sailfin_runtime rank {rank}] trained to step {stopped['step']} " in err, err


def children(pid: int):
    """Child pids of a process, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def rank_of(pid: int) -> str:
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
    return env[b"RANK"].decode()


def test_a_killed_rank_fails_the_run_and_a_rerun_resumes_from_its_last_checkpoint(tmp_path):
    # 100 steps: far more than the few that pass between step 3 and the kill.
    spec = setup_case(tmp_path, "SFT", "FullFineTuning", epoch=20, saveStep=2)
    proc = launch(spec("run"))
    lines = read_until_step(proc, 3)
    rank1 = next(pid for pid in children(proc.pid) if rank_of(pid) == "1")
    started = time.monotonic()
    os.kill(rank1, signal.SIGKILL)
    code, events, err = finish(proc, timeout=60)
    assert time.monotonic() - started < 30
    events = events_of("".join(lines)) + events
    assert code == 1, err
    error = events[-1]
    assert error["event"] == "error" and error["kind"] == "system", events[-3:]
    assert "rank 1 of 2" in error["message"] and "SIGKILL" in error["message"]
    assert [e["event"] for e in events].count("error") == 1

    # The worker's retry: the same spec, resumed from the newest complete checkpoint, trains
    # the losses the run would have trained uninterrupted.
    last = list_checkpoints(str(tmp_path / "run/checkpoints"))[-1]
    resumed_at = read_state(last)["step"]
    assert resumed_at < 100
    code, rerun, err = finish(launch(spec("run", resumeFrom=last)))
    assert code == 0, err
    assert rerun[0]["resumedFromStep"] == resumed_at and rerun[-1]["event"] == "done"
    assert_same_losses(losses_of(rerun), losses_of(run_finetune(spec("single"))), list(range(resumed_at + 1, 101)))


def test_ranks_do_not_outlive_a_killed_launcher(tmp_path):
    spec = setup_case(tmp_path, "SFT", "FullFineTuning", epoch=500, saveStep=100000)
    proc = launch(spec("run"))
    read_until_step(proc, 2)
    ranks = children(proc.pid)
    assert len(ranks) == 2
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 20
    while any(os.path.exists(f"/proc/{pid}") and not zombie(pid) for pid in ranks) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{pid}") and not zombie(pid) for pid in ranks)


def zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


@pytest.mark.parametrize("argv", [["--nproc", "0", "finetune", "--spec", "x"], ["--nproc", "2", "export", "--spec", "x"],
                                  ["--nproc", "two", "finetune", "--spec", "x"], ["--nproc", "2"]])
def test_bad_launch_arguments_are_user_errors(argv):
    code, events, err = finish(start_runtime(["launch", *argv]), timeout=60)
    assert code == 2, err
    assert len(events) == 1 and events[0]["event"] == "error" and events[0]["kind"] == "user"
    assert events[0]["message"].startswith("argv: ")
