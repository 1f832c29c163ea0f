"""Golden-loss tests: every mode still learns the deterministic pattern (torchtune-style).

The data follow a fixed rule (``helpers.pattern_next``): SFT responses can be
predicted after their first token, DPO/KTO "chosen"/"desirable" responses follow the
rule and "rejected"/"undesirable" ones are random. A loop that runs but has quietly
stopped learning fails here, which shape tests would not catch.

Golden values were measured on torch 1.13 CPU fp32 (and agree on torch 2.x CPU to
well within the margins: BLAS and kernel differences move them by ~1e-3). LoRA runs
use ``initializer_range`` 0.2: with HF's 0.02 a random model's frozen lm_head and final
norm cap the logits near 0.6, so a LoRA adapter alone cannot express a sharp rule.
"""

from __future__ import annotations

import pytest

from helpers import losses_of, make_data, make_model_dir, make_spec, run_finetune

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# name: (mode, scale, initializer_range, hyper, golden mean loss of the last 5 steps, golden final eval loss)
CASES = {
    "sft_full": ("SFT", "FullFineTuning", 0.02, {"epoch": 4}, 1.603, 2.226),
    "sft_lora": ("SFT", "LoRA", 0.2, {"epoch": 4, "loraTargetModules": ALL_LINEAR}, 4.617, 5.986),
    "postpretrain_full": ("PostPretrain", "FullFineTuning", 0.02, {"epoch": 4}, 2.421, 3.374),
    "dpo_full": ("DPO", "FullFineTuning", 0.02, {"epoch": 4, "learningRate": 3e-3}, 0.087, 0.189),
    "dpo_lora": ("DPO", "LoRA", 0.2, {"epoch": 4}, 0.212, 0.600),
    "kto_full": ("KTO", "FullFineTuning", 0.02, {"epoch": 4, "learningRate": 3e-3}, 0.164, 0.251),
    "kto_lora": ("KTO", "LoRA", 0.2, {"epoch": 4}, 0.248, 0.461),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_decreases_to_golden(tmp_path, name):
    mode, scale, init, hyper, golden_train, golden_eval = CASES[name]
    model = make_model_dir(str(tmp_path / "model"), initializer_range=init)
    data = make_data(str(tmp_path / "data"), mode, rows=64, seq_len=32)
    spec = make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out"), mode=mode, scale=scale, **hyper)
    events = run_finetune(spec)
    losses = losses_of(events)
    steps = sorted(losses)
    first, last = losses[steps[0]], sum(losses[s] for s in steps[-5:]) / 5
    evals = [e["evalLoss"] for e in events if e["event"] == "eval"]
    print(f"{name}: first {first:.4f}, last-5 mean {last:.4f}, eval {evals[-1]:.4f}")
    if mode == "DPO":
        assert abs(first - 0.6931) < 1e-3  # policy == reference at step 1: -log sigmoid(0)
    if mode == "KTO":
        assert abs(first - 0.5) < 1e-3  # 1 - sigmoid(0)
    assert last < 0.8 * first
    assert last == pytest.approx(golden_train, abs=0.1 + 0.05 * golden_train)
    assert evals[-1] == pytest.approx(golden_eval, abs=0.1 + 0.05 * golden_eval)
    assert events[-1]["event"] == "done"


def test_gradient_checkpointing_gives_the_same_losses(tmp_path, monkeypatch):
    """The spec's gradientCheckpointing (the API's hyper-parameter) checkpoints every decoder layer."""
    from sailfin_runtime import _compat

    calls = []
    original = _compat.checkpoint_call
    monkeypatch.setattr(_compat, "checkpoint_call", lambda fn, *args: calls.append(fn) or original(fn, *args))
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=16)
    plain = run_finetune(make_spec(str(tmp_path / "a.json"), model, data, str(tmp_path / "a")))
    assert calls == []
    checkpointed = run_finetune(make_spec(str(tmp_path / "b.json"), model, data, str(tmp_path / "b"), gradientCheckpointing=True))
    steps = len(losses_of(checkpointed))
    assert len(calls) >= 2 * steps and len({id(fn) for fn in calls}) == 2  # both layers, every step
    a, b = losses_of(plain), losses_of(checkpointed)
    assert max(abs(a[s] - b[s]) for s in a) <= 1e-6


def test_kto_mismatched_rows_pair_each_prompt_with_the_next_completion():
    import torch

    from sailfin_runtime.losses import kto_mismatched_rows

    ids = torch.tensor([[11, 12, 21, 22, 0, 0], [13, 31, 32, 33, 0, 0]])
    mask = torch.tensor([[0, 0, 1, 1, 0, 0], [0, 1, 1, 1, 0, 0]])
    seg = (ids > 0).long()
    out_ids, out_mask, out_seg = kto_mismatched_rows(ids, mask, seg, pad_id=0)
    assert out_ids.tolist() == [[11, 12, 31, 32, 33, 0], [13, 21, 22, 0, 0, 0]]
    assert out_mask.tolist() == [[0, 0, 1, 1, 1, 0], [0, 1, 1, 0, 0, 0]]
    assert out_seg.tolist() == [[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]]


def test_adamw_is_fused_on_cuda_only():
    import torch

    from sailfin_runtime import _compat

    cpu = _compat.make_adamw([{"params": [torch.nn.Parameter(torch.zeros(2))]}], 1e-3, torch.device("cpu"))
    assert not cpu.defaults.get("fused") and not _compat.adamw_is_fused(torch.device("cpu"))
    if torch.cuda.is_available() and _compat.has_sdpa():  # torch 2.x on a GPU
        cuda = _compat.make_adamw([{"params": [torch.nn.Parameter(torch.zeros(2, device="cuda"))]}], 1e-3, torch.device("cuda"))
        assert cuda.defaults["fused"] is True
