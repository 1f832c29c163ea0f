"""Checkpoint layout: atomic writes, partial folders ignored and removed, pruning."""

from __future__ import annotations

import os

import pytest

from helpers import make_data, make_model_dir, make_spec, run_finetune
from sailfin_runtime.io import checkpoint


def write_files(folder: str) -> None:
    with open(os.path.join(folder, "trainer_state.json"), "w") as f:
        f.write("{}")


def test_partial_folder_is_ignored_then_removed(tmp_path):
    root = str(tmp_path / "checkpoints")
    checkpoint.write_checkpoint(root, 5, write_files, keep=3)
    partial = os.path.join(root, "step_000010.tmp-deadbeef")
    os.makedirs(partial)
    with open(os.path.join(partial, "trainer_state.json"), "w") as f:
        f.write("{}")  # complete-looking content does not make a temp folder a checkpoint
    assert [os.path.basename(p) for p in checkpoint.list_checkpoints(root)] == ["step_000005"]
    assert checkpoint.remove_partial(root) == [partial]
    assert not os.path.exists(partial)


def test_failed_write_leaves_nothing(tmp_path):
    root = str(tmp_path / "checkpoints")

    def explode(folder: str) -> None:
        write_files(folder)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        checkpoint.write_checkpoint(root, 7, explode, keep=1)
    assert os.listdir(root) == []


def test_only_the_newest_are_kept(tmp_path):
    root = str(tmp_path / "checkpoints")
    for step in (1, 2, 3, 4):
        path = checkpoint.write_checkpoint(root, step, write_files, keep=2)
    assert path.endswith("step_000004")
    assert [os.path.basename(p) for p in checkpoint.list_checkpoints(root)] == ["step_000003", "step_000004"]


def test_a_run_removes_leftover_temp_folders_and_writes_the_layout(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=16)
    out = tmp_path / "out"
    leftover = out / "checkpoints" / "step_000002.tmp-0badc0de"
    leftover.mkdir(parents=True)
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(out), saveStep=2, checkpointCount=1)
    events = run_finetune(spec)
    assert not leftover.exists()
    names = sorted(os.listdir(out / "checkpoints"))
    assert names == ["step_000004"]  # 16 rows / batch 4 = 4 steps; only the last kept
    files = sorted(os.listdir(out / "checkpoints" / "step_000004"))
    assert files == ["config.json", "model.safetensors", "optimizer.pt", "scheduler.pt", "trainer_state.json"]
    assert [e["step"] for e in events if e["event"] == "checkpoint"] == [2, 4]
