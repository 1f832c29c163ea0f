"""The chunked target log-probs: the same losses and gradients as the whole-logits path, less memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from helpers import RUNTIME_ROOT, tiny_config
from sailfin_runtime import losses
from sailfin_runtime.losses import linear_target_logps, target_logps
from sailfin_runtime.models.decoder import CausalLM, ModelConfig


def whole(hidden, head, targets):
    """The path before chunking: the whole ``[n, vocab]`` logits, fp32, cross-entropy."""
    return -F.cross_entropy(head(hidden).float(), targets, reduction="none")


def inputs(n=37, width=24, vocab=101, seed=0):
    gen = torch.Generator().manual_seed(seed)
    head = torch.nn.Linear(width, vocab, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.randn(vocab, width, generator=gen))
    hidden = torch.randn(n, width, generator=gen, requires_grad=True)
    targets = torch.randint(0, vocab, (n,), generator=gen)
    upstream = torch.randn(n, generator=gen)
    return hidden, head, targets, upstream


def grads(fn, hidden, head, targets, upstream):
    head.zero_grad()
    h = hidden.detach().clone().requires_grad_(True)
    out = fn(h, head, targets)
    (out * upstream).sum().backward()
    return out.detach(), h.grad, head.weight.grad.clone()


@pytest.mark.parametrize("chunk", [1, 5, 37, 1000])
def test_chunks_give_the_whole_logits_values_and_gradients_in_fp32(chunk):
    hidden, head, targets, upstream = inputs()
    expected = grads(whole, hidden, head, targets, upstream)
    got = grads(lambda h, m, t: linear_target_logps(h, m, t, chunk=chunk), hidden, head, targets, upstream)
    for e, g in zip(expected, got):
        assert g.dtype == e.dtype
        torch.testing.assert_close(g, e, atol=1e-5, rtol=1e-5)


def test_a_final_softcap_is_applied_in_the_chunks_too():
    """Gemma 2's ``cap * tanh(logits / cap)`` before the log-softmax: values and gradients."""
    hidden, head, targets, upstream = inputs()

    def capped(h, m, t):
        return -F.cross_entropy(torch.tanh(m(h).float() / 4.0) * 4.0, t, reduction="none")

    expected = grads(capped, hidden, head, targets, upstream)
    got = grads(lambda h, m, t: linear_target_logps(h, m, t, chunk=6, softcap=4.0), hidden, head, targets, upstream)
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=1e-5)


def test_chunks_under_bf16_autocast_match_within_bf16_tolerance():
    hidden, head, targets, upstream = inputs()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = grads(whole, hidden, head, targets, upstream)
        got = grads(lambda h, m, t: linear_target_logps(h, m, t, chunk=8), hidden, head, targets, upstream)
    torch.testing.assert_close(got[0], expected[0], atol=1e-5, rtol=1e-6)  # the same bf16 GEMM; fp32 softmax rounding
    for e, g in zip(expected[1:], got[1:]):
        torch.testing.assert_close(g, e, atol=3e-2, rtol=2e-2)


def test_the_model_losses_and_gradients_do_not_change(monkeypatch):
    """target_logps through CausalLM.forward (several chunks) vs the logits path it replaced."""
    monkeypatch.setattr(losses, "CHUNK_LOGITS", 300 * 4)  # vocab 300: 4 positions a chunk
    model = CausalLM(ModelConfig.from_dict(tiny_config(tied=True))).init_weights(1)
    gen = torch.Generator().manual_seed(3)
    ids = torch.randint(3, 300, (2, 24), generator=gen)
    seg = torch.ones_like(ids)
    seg[0, 10:] = 2
    seg[1, 20:] = 0
    selected = (torch.rand(2, 23, generator=gen) > 0.3) & (seg[:, 1:] > 0)

    def run(chunked: bool):
        model.zero_grad()
        if chunked:
            logps = target_logps(model, ids, seg, selected).logps
        else:
            logps = whole(model(ids, seg, selected=selected), lambda x: x, ids[:, 1:][selected])
        (-logps.mean()).backward()
        return logps.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}

    expected_logps, expected_grads = run(False)
    logps, got_grads = run(True)
    torch.testing.assert_close(logps, expected_logps, atol=1e-6, rtol=1e-6)
    for name, grad in got_grads.items():
        torch.testing.assert_close(grad, expected_grads[name], atol=1e-6, rtol=1e-5, msg=lambda m: f"{name}: {m}")


def test_a_quantized_or_biased_head_is_applied_whole():
    head = torch.nn.Linear(8, 11, bias=True)
    hidden, targets = torch.randn(5, 8), torch.randint(0, 11, (5,))
    torch.testing.assert_close(linear_target_logps(hidden, head, targets), whole(hidden, head, targets))


PEAK = r"""
import json, resource, sys, torch, torch.nn.functional as F
from sailfin_runtime.losses import linear_target_logps
n, width, vocab, chunked = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
head = torch.nn.Linear(width, vocab, bias=False)
hidden = torch.randn(n, width, requires_grad=True)
targets = torch.randint(0, vocab, (n,))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
logps = linear_target_logps(hidden, head, targets, chunk=256) if chunked else -F.cross_entropy(head(hidden).float(), targets, reduction="none")
logps.sum().backward()
print(json.dumps({"extraMiB": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
"""


def peak_extra_mib(chunked: bool, n=4096, width=64, vocab=32768) -> float:
    env = dict(os.environ, PYTHONPATH=RUNTIME_ROOT, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", PEAK, str(n), str(width), str(vocab), "1" if chunked else "0"],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)["extraMiB"]


def test_peak_memory_does_not_scale_with_vocabulary_times_positions():
    """4,096 positions x 32,768 vocabulary: the whole fp32 logits are 512 MiB; chunks of 256 are 32 MiB.

    Measured as the growth of the process's peak RSS over forward + backward (runtime/README.md).
    """
    whole_mib, chunked_mib = peak_extra_mib(False), peak_extra_mib(True)
    assert whole_mib > 500, whole_mib  # logits and their gradient, at least
    assert chunked_mib < whole_mib / 4, (chunked_mib, whole_mib)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA only")
def test_cuda_peak_memory_of_a_qwen_sized_head_in_bf16():
    """Qwen2.5-0.5B's head (896 x 151,936) on 4,096 positions under bf16 autocast."""
    device = torch.device("cuda")
    head = torch.nn.Linear(896, 151936, bias=False, device=device)
    hidden = torch.randn(4096, 896, device=device, requires_grad=True)
    targets = torch.randint(0, 151936, (4096,), device=device)
    peaks = {}
    for name, fn in (("whole", whole), ("chunked", linear_target_logps)):
        head.zero_grad()
        hidden.grad = None
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = fn(hidden, head, targets)
        out.sum().backward()
        torch.cuda.synchronize()
        peaks[name] = (torch.cuda.max_memory_allocated() - base) / 2 ** 20
        peaks[name + "Value"] = float(out.sum())
    assert abs(peaks["wholeValue"] - peaks["chunkedValue"]) <= 1e-3 * abs(peaks["wholeValue"])
    assert peaks["chunked"] < peaks["whole"] / 3, peaks
