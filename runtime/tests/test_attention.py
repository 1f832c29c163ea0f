"""Attention backends against the reference (dense mask) path: outputs and gradients.

Torch 1.13 has only the reference path: the torch-2 tests skip there (npm test runs this
file with the torch 2.9.1 venv too, scripts/run-tests.mjs). CUDA-only tests skip on CPU.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from helpers import tiny_config
from sailfin_runtime import _compat
from sailfin_runtime.models import attention
from sailfin_runtime.models.attention import attend, plan_attention
from sailfin_runtime.models.decoder import CausalLM, ModelConfig

needs_sdpa = pytest.mark.skipif(not _compat.has_sdpa(), reason="torch 1.13: reference path only")
needs_flex = pytest.mark.skipif(not _compat.has_flex(), reason="FlexAttention needs torch >= 2.5")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA only")
needs_flash = pytest.mark.skipif(not (torch.cuda.is_available() and _compat.has_flash_attn()),
                                 reason="flash-attn on CUDA only")


def packed_segments(rows: int = 2, seq: int = 40, device: str = "cpu") -> torch.Tensor:
    """Several samples a row and trailing padding (0), of uneven lengths."""
    seg = torch.zeros(rows, seq, dtype=torch.long, device=device)
    layouts = [[7, 13, 1, 11], [20, 9]]  # segment lengths; the rest is padding
    for r in range(rows):
        start = 0
        for n, length in enumerate(layouts[r % len(layouts)]):
            seg[r, start:start + length] = n + 1
            start += length
    return seg


def qkv(seg: torch.Tensor, heads: int = 4, kv_heads: int = 2, dim: int = 16, dtype=torch.float32):
    gen = torch.Generator().manual_seed(0)
    b, s = seg.shape
    make = lambda h: torch.randn(b, h, s, dim, generator=gen).to(seg.device, dtype).requires_grad_(True)  # noqa: E731
    return make(heads), make(kv_heads), make(kv_heads)


def run(backend: str, seg, q, k, v, **options):
    """Output and the gradients of q, k, v under a fixed random upstream gradient on real tokens.

    Padding outputs get no gradient, as in training (no loss reads them).
    """
    q, k, v = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    ids = torch.zeros_like(seg)
    plan = plan_attention(ids, segment_ids=seg, backend=backend).prepare([options.get("window")])
    out = attend(q, k, v, plan, **options)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(1)).to(out.device, out.dtype)
    upstream = upstream * (seg > 0)[:, None, :, None]
    (out * upstream).sum().backward()
    return out.detach(), q.grad, k.grad, v.grad


OPTIONS = [dict(window=w, softcap=c, scale=sc) for w, c, sc in itertools.product((None, 5), (None, 3.0), (None, 0.2))]


def test_reference_masks_a_window_and_keeps_the_diagonal():
    seg = packed_segments()
    plan = plan_attention(torch.zeros_like(seg), segment_ids=seg, backend="reference")
    full, windowed = plan.dense_mask(None)[:, 0], plan.dense_mask(4)[:, 0]
    assert torch.equal(windowed, full & ((torch.arange(40)[:, None] - torch.arange(40)[None, :]) < 4))
    assert bool(windowed.diagonal(dim1=-2, dim2=-1).all())
    assert plan.dense_mask(4) is plan.dense_mask(4)  # built once per window


@needs_flex
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}{v}" for k, v in o.items()))
def test_flex_matches_the_reference_in_fp32(options):
    seg = packed_segments()
    q, k, v = qkv(seg)
    expected = run("reference", seg, q, k, v, **options)
    got = run("flex", seg, q, k, v, **options)
    for name, e, g in zip(("out", "dq", "dk", "dv"), expected, got):
        torch.testing.assert_close(g, e, atol=2e-5, rtol=2e-5, msg=lambda m: f"{name} {options}: {m}")


@needs_sdpa
@pytest.mark.parametrize("options", OPTIONS[:2] + [dict(scale=0.2)], ids=str)
def test_sdpa_matches_the_reference_in_fp32(options):
    """Several samples a row: SDPA falls back to the dense mask; one sample a row: is_causal."""
    for seg in (packed_segments(), (packed_segments() > 0).long()):
        q, k, v = qkv(seg)
        expected = run("reference", seg, q, k, v, **options)
        got = run("sdpa", seg, q, k, v, **options)
        real = (seg > 0)[:, None, :, None]  # is_causal gives padding queries other (never read) outputs
        for e, g in zip(expected, got):
            torch.testing.assert_close(g * real, e * real, atol=2e-5, rtol=2e-5)
    single = plan_attention(torch.zeros_like(seg), segment_ids=(packed_segments() > 0).long(), backend="sdpa")
    assert single.single and not plan_attention(seg, segment_ids=packed_segments(), backend="sdpa").single


@needs_flex
def test_flex_under_bf16_autocast_matches_the_reference_within_bf16_tolerance():
    """bf16 tolerance: flex's mean error against the fp32 result is at most twice the bf16 reference's."""
    seg = packed_segments()
    q, k, v = qkv(seg)
    exact = run("reference", seg, q, k, v, window=5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = run("reference", seg, q, k.to(torch.bfloat16), v.to(torch.bfloat16), window=5)
        got = run("flex", seg, q, k.to(torch.bfloat16), v.to(torch.bfloat16), window=5)
    for name, x, e, g in zip(("out", "dq", "dk", "dv"), exact, expected, got):
        assert name != "out" or g.dtype == torch.bfloat16
        reference_error = float((e.float() - x).abs().mean())
        flex_error = float((g.float() - x).abs().mean())
        assert flex_error <= 2 * reference_error + 1e-4, (name, flex_error, reference_error)
        torch.testing.assert_close(g.float(), x, atol=6e-2, rtol=3e-2)


def model_pair(**config):
    cfg = ModelConfig.from_dict(tiny_config(**config))
    torch.manual_seed(0)
    model = CausalLM(cfg).init_weights(3)
    return model


def model_logits_and_grads(model, backend, ids, seg):
    model.zero_grad()
    model.model.attention_backend = backend
    logits = model(ids, seg)
    real = (seg > 0)[..., None]
    (logits * real).float().square().mean().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return (logits * real).detach(), grads


@pytest.mark.parametrize("backend", ["sdpa", "flex"])
@pytest.mark.parametrize("layer_options", [{}, {"window": 6, "softcap": 4.0}], ids=["plain", "window-softcap"])
def test_the_decoder_gives_the_reference_logits_and_gradients(backend, layer_options):
    """Packed rows, GQA (4 heads over 2), per-layer window and softcap as Attention attributes."""
    if backend == "sdpa" and not _compat.has_sdpa() or backend == "flex" and not _compat.has_flex():
        pytest.skip(f"torch {torch.__version__} has no {backend}")
    model = model_pair()
    for layer in model.model.layers:
        for name, value in layer_options.items():
            setattr(layer.self_attn, name, value)
    seg = packed_segments()
    ids = torch.randint(3, 300, seg.shape, generator=torch.Generator().manual_seed(2)) * (seg > 0)
    expected_logits, expected_grads = model_logits_and_grads(model, "reference", ids, seg)
    logits, grads = model_logits_and_grads(model, backend, ids, seg)
    torch.testing.assert_close(logits, expected_logits, atol=1e-5, rtol=1e-5)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], atol=1e-5, rtol=1e-4, msg=lambda m: f"{name}: {m}")


@needs_flex
def test_flex_composes_with_checkpointing_and_compiled_layers(monkeypatch):
    """torch.compile'd layers (SAILFIN_COMPILE=1) and activation checkpointing around flex: same loss and grads."""
    monkeypatch.setenv("SAILFIN_COMPILE", "1")
    seg = packed_segments(rows=1)
    ids = torch.randint(3, 300, seg.shape, generator=torch.Generator().manual_seed(2)) * (seg > 0)
    reference = model_pair(num_hidden_layers=1)
    expected_logits, expected_grads = model_logits_and_grads(reference, "reference", ids, seg)
    model = model_pair(num_hidden_layers=1)
    model.model.gradient_checkpointing = True
    assert _compat.maybe_compile_layers(model.model.layers, torch.device("cpu"), 1)
    logits, grads = model_logits_and_grads(model, "flex", ids, seg)
    torch.testing.assert_close(logits, expected_logits, atol=1e-4, rtol=1e-4)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name.replace("_orig_mod.", "")], atol=1e-4, rtol=1e-3)


def test_the_backend_is_chosen_and_overridable(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.delenv("SAILFIN_ATTENTION", raising=False)
    assert attention.choose_backend(cpu) == ("sdpa" if _compat.has_sdpa() else "reference")
    monkeypatch.setenv("SAILFIN_ATTENTION", "reference")
    assert attention.choose_backend(cpu) == "reference"
    monkeypatch.setenv("SAILFIN_ATTENTION", "fastest")
    with pytest.raises(ValueError, match="SAILFIN_ATTENTION='fastest' is not a backend"):
        attention.choose_backend(cpu)
    monkeypatch.setenv("SAILFIN_ATTENTION", "flash")
    with pytest.raises(ValueError, match="flash-attn needs CUDA"):
        attention.choose_backend(cpu)
    if not _compat.has_flex():
        monkeypatch.setenv("SAILFIN_ATTENTION", "flex")
        with pytest.raises(ValueError, match="no FlexAttention"):
            attention.choose_backend(cpu)


def test_generation_keeps_the_dense_mask_whatever_the_backend():
    """Left-padded rows and a KV cache: every backend gives the reference's next-token logits."""
    model = model_pair().eval()
    ids = torch.tensor([[0, 0, 5, 6, 7], [8, 9, 10, 11, 12]])
    mask = (torch.arange(5)[None] >= torch.tensor([[2], [0]])).long()
    with torch.no_grad():
        model.model.attention_backend = "reference"
        expected = model.next_token_logits(ids, mask)
        for backend in [b for b in ("sdpa", "flex") if (_compat.has_sdpa() if b == "sdpa" else _compat.has_flex())]:
            model.model.attention_backend = backend
            torch.testing.assert_close(model.next_token_logits(ids, mask), expected)


# ---------------------------------------------------------------- CUDA (a lent GPU; skipped on CPU)

def cuda_compare(backend, dtype=torch.bfloat16, seq=1024, **options):
    seg = torch.zeros(2, seq, dtype=torch.long, device="cuda")
    for r, lengths in enumerate(([300, 500, 124], [1000])):
        start = 0
        for n, length in enumerate(lengths):
            seg[r, start:start + length] = n + 1
            start += length
    q, k, v = qkv(seg, heads=8, kv_heads=2, dim=64, dtype=dtype)
    expected = run("reference", seg, q.float(), k.float(), v.float(), **options)
    got = run(backend, seg, q, k, v, **options)
    for e, g in zip(expected, got):  # bf16 against fp32: within bf16's few significant digits
        torch.testing.assert_close(g.float(), e, atol=5e-2, rtol=5e-2)


@needs_cuda
@needs_flex
@pytest.mark.parametrize("options", [{}, {"window": 128, "softcap": 30.0}], ids=["plain", "window-softcap"])
def test_cuda_compiled_flex_matches_the_reference_in_bf16(options):
    cuda_compare("flex", **options)


@needs_flash
@pytest.mark.parametrize("options", [{}, {"window": 128, "softcap": 30.0}], ids=["plain", "window-softcap"])
def test_cuda_flash_varlen_matches_the_reference_in_bf16(options):
    cuda_compare("flash", **options)


@needs_cuda
@needs_sdpa
def test_cuda_sdpa_single_sample_rows_match_the_reference_in_bf16():
    seg = torch.ones(2, 1024, dtype=torch.long, device="cuda")
    q, k, v = qkv(seg, heads=8, kv_heads=2, dim=64, dtype=torch.bfloat16)
    expected = run("reference", seg, q.float(), k.float(), v.float())
    for e, g in zip(expected, run("sdpa", seg, q, k, v)):
        torch.testing.assert_close(g.float(), e, atol=5e-2, rtol=5e-2)


@needs_cuda
@needs_flex
def test_cuda_decoder_trains_on_the_automatic_backend_in_bf16():
    """The whole decoder under bf16 autocast on CUDA: the chosen backend's logits within bf16 tolerance."""
    model = model_pair().cuda()
    seg = packed_segments(device="cuda")
    ids = torch.randint(3, 300, seg.shape, device="cuda") * (seg > 0)
    expected, _ = model_logits_and_grads(model, "reference", ids, seg)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        got, grads = model_logits_and_grads(model, attention.choose_backend(torch.device("cuda")), ids, seg)
    torch.testing.assert_close(got.float(), expected, atol=3e-2, rtol=3e-2)
    assert all(torch.isfinite(g).all() for g in grads.values())


def test_a_bad_override_fails_the_run_as_a_user_error(tmp_path, monkeypatch):
    from helpers import make_data, make_model_dir, make_spec, run_finetune
    from sailfin_runtime.protocol import UserError

    monkeypatch.setenv("SAILFIN_ATTENTION", "fastest")
    model = make_model_dir(str(tmp_path / "model"))
    data = make_data(str(tmp_path / "data"), "SFT", rows=4)
    with pytest.raises(UserError, match="SAILFIN_ATTENTION='fastest' is not a backend"):
        run_finetune(make_spec(str(tmp_path / "spec.json"), model, data, str(tmp_path / "out")))
