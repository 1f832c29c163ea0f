"""FSDP2 and torchrun, on torch 2.x only (CI: the venv of scripts/setup-torch2-venv.sh).

test_distributed.py, run with the same interpreter, already trains full fine-tuning on 2
FSDP ranks (same losses as 1 process, resume 2 -> 1 and 1 -> 2, a killed rank); this file
adds what only FSDP has (a sharded reference model, tied embeddings in the root unit,
padding passes for idle ranks, gathered checkpoints in the one-process format) and
``torchrun`` as the launcher. Skipped on Debian's torch 1.13, which has neither.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from helpers import RUNTIME_ROOT, losses_of, make_data, make_model_dir, make_spec, run_finetune, subprocess_env
from sailfin_runtime import _compat
from sailfin_runtime.io import safetensors
from test_distributed import assert_same_losses, events_of, finish, launch

pytestmark = pytest.mark.skipif(not _compat.has_fsdp2(), reason=f"torch {torch.__version__} has no FSDP2")


def test_fsdp_dpo_with_tied_embeddings_matches_one_process_and_saves_its_checkpoint_format(tmp_path):
    # DPO full fine-tuning shards the frozen reference model too; tied embeddings share the root unit
    # with lm_head; 3 micro-batches on 2 ranks make rank 1 run a zero-weighted pass in every step;
    # activation checkpointing recomputes each layer inside its FSDP unit.
    model = make_model_dir(str(tmp_path / "model"), tied=True)
    data = make_data(str(tmp_path / "data"), "DPO", rows=36, seq_len=32)

    def spec(name: str, **extra) -> str:
        return make_spec(str(tmp_path / f"{name}.json"), model, data, str(tmp_path / name), "DPO", "FullFineTuning",
                         batchSize=2, gradientAccumulationSteps=3, epoch=2, saveStep=3, checkpointCount=4,
                         gradientCheckpointing=True, **extra)

    single = run_finetune(spec("single"))
    code, double, err = finish(launch(spec("double")))
    assert code == 0, err
    assert "FSDP2: every weight, gradient and optimizer moment sharded over 2 ranks" in err
    expected = losses_of(single)
    assert_same_losses(losses_of(double), expected, list(range(1, 7)))
    norms = [[e["gradNorm"] for e in events if e["event"] == "metrics"] for events in (single, double)]
    assert max(abs(a - b) for a, b in zip(*norms)) < 1e-5, norms  # the whole gradient's norm, not a shard's

    one = str(tmp_path / "single/checkpoints/step_000003")
    two = str(tmp_path / "double/checkpoints/step_000003")
    weights_one, weights_two = safetensors.load_weights(one, "one"), safetensors.load_weights(two, "two")
    assert sorted(weights_two) == sorted(weights_one) and "lm_head.weight" not in weights_two
    for name, tensor in weights_one.items():
        assert torch.allclose(weights_two[name], tensor, atol=1e-5), name
    optim_one = _compat.torch_load(os.path.join(one, "optimizer.pt"))
    optim_two = _compat.torch_load(os.path.join(two, "optimizer.pt"))
    assert [g["params"] for g in optim_two["param_groups"]] == [g["params"] for g in optim_one["param_groups"]]
    for index, state in optim_one["state"].items():
        for key, value in state.items():
            assert torch.allclose(optim_two["state"][index][key], value, atol=1e-5), (index, key)

    # Gathered optimizer moments resume exactly in one process, and one process's in FSDP.
    assert_same_losses(losses_of(run_finetune(spec("double", resumeFrom=two))), expected, [4, 5, 6])
    code, one_to_two, err = finish(launch(spec("single", resumeFrom=one)))
    assert code == 0, err
    assert_same_losses(losses_of(one_to_two), expected, [4, 5, 6])


def test_torchrun_launches_the_same_training(tmp_path):
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=24, seq_len=32)

    def spec(name: str) -> str:
        return make_spec(str(tmp_path / f"{name}.json"), model, data, str(tmp_path / name), "SFT", "FullFineTuning",
                         gradientAccumulationSteps=2, epoch=2, saveStep=3)

    single = run_finetune(spec("single"))
    # torchrun is torch.distributed.run; `-m` keeps the venv's interpreter (its console script's shebang may not).
    proc = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "sailfin_runtime", "finetune", "--spec", spec("torchrun")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(), cwd=RUNTIME_ROOT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    events = events_of(out)  # rank 0's events alone: rank 1 is silent, gloo's chatter goes to stderr
    kinds = [e["event"] for e in events]
    assert kinds.count("started") == 1 and kinds[-1] == "done", kinds
    assert "FSDP2" in err and "rank 1 of 2" in err
    assert_same_losses(losses_of(events), losses_of(single), sorted(losses_of(single)))
    assert os.path.isfile(str(tmp_path / "torchrun/checkpoints/step_000006/model.safetensors"))
