"""Attention over the decoder's three layouts, by the fastest backend this torch and device have.

A *plan* is built once per forward (``Decoder.forward``) from what the call has:

- ``segments``: packed training rows, ``segment_ids`` 1, 2, ... per sample and 0 for
  padding; a token attends causally within its own segment (padding to padding);
- ``causal``: plain causal rows of equal length (no padding, no cache);
- ``padded``: generation, left-padded rows and a KV cache (``attention_mask``).

``attend`` then runs one layer's attention on the plan. Backends:

- ``reference``: the dense ``[b, 1, q, k]`` bool mask through ``_compat.attention``
  (explicit softmax on torch 1.13, SDPA with the mask on 2.x) — what the fast ones are
  tested against, and the only one on torch 1.13;
- ``sdpa``: SDPA with ``is_causal`` and no mask wherever the layout allows it (plain
  causal rows, and packed rows holding one sample each), which lets SDPA pick its
  flash/memory-efficient kernels; other layouts take the reference path;
- ``flex``: FlexAttention (torch >= 2.5) with a block mask from the document ids —
  causal, same segment, optional sliding window — built once per plan and window and
  reused by every layer; softcap through a ``score_mod``. Compiled on CUDA (eager flex
  materializes the scores);
- ``flash``: ``flash_attn_varlen_func`` (the ``flash-attn`` package, CUDA, fp16/bf16)
  over the segments as variable-length sequences (``cu_seqlens``).

The choice is automatic (``choose_backend``) and ``SAILFIN_ATTENTION=reference|sdpa|flex|flash``
overrides it. Generation (``padded``) always uses the dense mask: each decoding step has
a different key length, and a block mask per step would cost more than it saves.

Sliding window ``w``: a query sees itself and the ``w - 1`` keys before it (Hugging Face's
``kv_idx > q_idx - sliding_window``; flash-attn's ``window_size=(w - 1, 0)``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Optional

import torch
import torch.nn.functional as F

from .. import _compat

BACKENDS = ("reference", "sdpa", "flex", "flash")


def _sdpa_has_gqa() -> bool:
    return _compat.has_sdpa() and "enable_gqa" in (F.scaled_dot_product_attention.__doc__ or "")


def choose_backend(device: torch.device) -> str:
    """``_choose_backend`` for this device and the current ``SAILFIN_ATTENTION`` (memoized: called every forward)."""
    return _choose_backend(device.type, os.environ.get("SAILFIN_ATTENTION", "").strip())


@functools.lru_cache(maxsize=None)
def _choose_backend(device_type: str, wanted: str) -> str:
    """The backend for this process: ``SAILFIN_ATTENTION`` when set, else the fastest available.

    On CUDA: flash-attn when installed, else FlexAttention, else SDPA. On CPU: ``sdpa``
    (measured, runtime/README.md "Speed on GPUs": eager flex on CPU is slower than
    SDPA with a dense mask at the sequence lengths a CPU trains, and compiling it costs
    more than a CPU run saves). Torch 1.13: ``reference``.

    Raises:
        ValueError: ``SAILFIN_ATTENTION`` names an unknown backend or one this torch/device lacks.
    """
    if wanted:
        if wanted not in BACKENDS:
            raise ValueError(f"SAILFIN_ATTENTION={wanted!r} is not a backend (use {', '.join(BACKENDS)})")
        missing = {
            "sdpa": None if _compat.has_sdpa() else f"torch {torch.__version__} has no scaled_dot_product_attention",
            "flex": None if _compat.has_flex() else f"torch {torch.__version__} has no FlexAttention (needs 2.5+)",
            "flash": None if (_compat.has_flash_attn() and device_type == "cuda") else "flash-attn needs CUDA and the flash-attn package",
        }.get(wanted)
        if missing:
            raise ValueError(f"SAILFIN_ATTENTION={wanted}: {missing}")
        return wanted
    if not _compat.has_sdpa():
        return "reference"
    if device_type == "cuda":
        if _compat.has_flash_attn():
            return "flash"
        if _compat.has_flex():
            return "flex"
    return "sdpa"


@dataclass
class AttentionPlan:
    """How every layer of one forward attends (see the module docstring).

    Attributes:
        layout: ``segments``, ``causal`` or ``padded``.
        backend: one of ``BACKENDS``.
        segment_ids: ``[b, s]`` (``segments``).
        attention_mask: ``[b, past + s]`` (``padded``).
        past: cached positions before this call's queries (``padded``).
        single: every packed row holds one sample followed by padding only, so
            ``is_causal`` gives every real token the reference's output.
    """

    layout: str
    backend: str
    batch: int
    queries: int
    device: torch.device
    segment_ids: Optional[torch.Tensor] = None
    attention_mask: Optional[torch.Tensor] = None
    past: int = 0
    single: bool = False
    _dense: Dict[Optional[int], torch.Tensor] = field(default_factory=dict, repr=False)
    _blocks: Dict[Optional[int], Any] = field(default_factory=dict, repr=False)
    _varlen: Optional[tuple] = field(default=None, repr=False)

    def prepare(self, windows: Iterable[Optional[int]]) -> "AttentionPlan":
        """Build the block masks / ``cu_seqlens`` of these windows now, outside any compiled layer or checkpoint."""
        if self.layout != "padded":
            if self.backend == "flex":
                for window in set(windows):
                    _block_mask(self, window)
            elif self.backend == "flash":
                _varlen(self)
        return self

    def dense_mask(self, window: Optional[int]) -> Optional[torch.Tensor]:
        """``[b, 1, q, k]`` bool (None: plain causal without a window); built once per window."""
        if window not in self._dense:
            self._dense[window] = _dense_mask(self, window)
        return self._dense[window]


def plan_attention(input_ids: torch.Tensor, segment_ids: Optional[torch.Tensor] = None,
                   attention_mask: Optional[torch.Tensor] = None, past: int = 0,
                   backend: Optional[str] = None) -> AttentionPlan:
    """The plan of one forward; the layout follows the arguments (``Decoder.forward``'s)."""
    b, s = input_ids.shape
    device = input_ids.device
    backend = backend or choose_backend(device)
    if segment_ids is not None:
        single = False
        if backend in ("sdpa", "flash"):  # one host sync per forward, to know whether is_causal is exact
            starts = (segment_ids[:, 1:] != segment_ids[:, :-1]) & (segment_ids[:, 1:] > 0)
            single = not bool(starts.any())
        return AttentionPlan("segments", backend, b, s, device, segment_ids=segment_ids, single=single)
    if attention_mask is None and past == 0:
        return AttentionPlan("causal", backend, b, s, device)
    return AttentionPlan("padded", backend, b, s, device, attention_mask=attention_mask, past=past)


def segment_mask(segment_ids: torch.Tensor) -> torch.Tensor:
    """``[b, 1, s, s]`` bool: causal and within the same segment (padding attends to padding)."""
    s = segment_ids.shape[1]
    same = segment_ids[:, :, None] == segment_ids[:, None, :]
    causal = torch.ones(s, s, dtype=torch.bool, device=segment_ids.device).tril()
    return (same & causal)[:, None]


def padded_causal_mask(attention_mask: torch.Tensor, past: int) -> torch.Tensor:
    """``[b, 1, new, past + new]`` bool for the newest tokens of left-padded rows.

    Query ``i`` (at ``past + i``) sees the keys at or before it that are real tokens
    (``attention_mask == 1``). A padding query also sees itself, so no softmax row is
    empty; its output is never read by a real token.
    """
    total = attention_mask.shape[1]
    device = attention_mask.device
    query = torch.arange(past, total, device=device)[:, None]
    key = torch.arange(total, device=device)[None, :]
    allowed = (key <= query)[None] & attention_mask.bool()[:, None, :]
    return (allowed | (key == query)[None])[:, None]


def window_mask(mask: Optional[torch.Tensor], window: int, queries: int, keys: int,
                device: torch.device) -> torch.Tensor:
    """``mask`` (None: plain causal) limited to each query's last ``window`` keys, itself included.

    Indices are absolute slots (padding and earlier segments included), as HF's
    ``sliding_window_overlay`` counts them: a query at slot ``q`` sees keys ``k`` with
    ``q - window < k <= q``. Left padding precedes a row's tokens and segments are
    contiguous, so slot distance equals position distance for every real token.
    """
    query = torch.arange(keys - queries, keys, device=device)[:, None]
    key = torch.arange(keys, device=device)[None, :]
    band = (key > query - window) & (key <= query)
    return band[None, None] if mask is None else mask & band


def _dense_mask(plan: AttentionPlan, window: Optional[int]) -> Optional[torch.Tensor]:
    """The reference mask of the plan's layout, narrowed to a window."""
    if plan.layout == "segments":
        mask: Optional[torch.Tensor] = segment_mask(plan.segment_ids)
    elif plan.layout == "causal":
        mask = None  # plain causal: _compat.attention's is_causal
    else:
        mask = padded_causal_mask(plan.attention_mask, plan.past)
    if window is None:
        return mask
    keys = plan.queries + plan.past
    return window_mask(mask, window, plan.queries, keys, plan.device)


def repeat_kv(x: torch.Tensor, times: int) -> torch.Tensor:
    """``[b, kv_heads, s, d]`` -> ``[b, kv_heads * times, s, d]`` (HF's expand + reshape)."""
    if times == 1:
        return x
    b, h, s, d = x.shape
    return x[:, :, None].expand(b, h, times, s, d).reshape(b, h * times, s, d)


def _compute_dtype(q: torch.Tensor, v: torch.Tensor) -> torch.dtype:
    """The dtype the kernel runs in: autocast's when it is on (as SDPA casts), else v's.

    Under autocast, q and k come out of the rotary embedding in fp32 (the angles are
    fp32) while v is bf16; SDPA casts them all to bf16, flex and flash do not.
    """
    return _compat.autocast_dtype(q.device.type) or v.dtype


def reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: Optional[torch.Tensor], *,
              scale: Optional[float] = None, softcap: Optional[float] = None) -> torch.Tensor:
    """The reference: the dense mask through ``_compat.attention`` (explicit fp32 softmax where SDPA cannot)."""
    groups = q.shape[1] // k.shape[1]
    return _compat.attention(q, repeat_kv(k, groups), repeat_kv(v, groups), mask, scale=scale, softcap=softcap)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, plan: AttentionPlan, *,
           window: Optional[int] = None, scale: Optional[float] = None, softcap: Optional[float] = None) -> torch.Tensor:
    """One layer's attention on ``plan``.

    Args:
        q: ``[b, heads, queries, head_dim]``, after the rotary embedding.
        k, v: ``[b, kv_heads, keys, head_dim]`` (not repeated: GQA is handled here).
        window: sliding window in tokens (None: full causal).
        scale: score scale (None: ``head_dim ** -0.5``).
        softcap: ``softcap * tanh(score / softcap)`` before the softmax (Gemma 2), or None.

    Returns:
        ``[b, heads, queries, head_dim]``.
    """
    backend, layout = plan.backend, plan.layout
    if layout != "padded":
        if backend == "flash" and _compute_dtype(q, v) in (torch.float16, torch.bfloat16):
            return _flash(q, k, v, plan, window, scale, softcap)
        if backend == "flex":
            return _flex(q, k, v, plan, window, scale, softcap)
        if backend in ("sdpa", "flash") and window is None and softcap is None and (layout == "causal" or plan.single):
            return _sdpa_causal(q, k, v, scale)
    return reference(q, k, v, plan.dense_mask(window), scale=scale, softcap=softcap)


def _sdpa_causal(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: Optional[float]) -> torch.Tensor:
    kwargs: Dict[str, Any] = {"is_causal": True}
    if scale is not None:
        kwargs["scale"] = scale
    if _sdpa_has_gqa():
        kwargs["enable_gqa"] = q.shape[1] != k.shape[1]
    else:
        groups = q.shape[1] // k.shape[1]
        k, v = repeat_kv(k, groups), repeat_kv(v, groups)
    return F.scaled_dot_product_attention(q, k, v, **kwargs)


# ---------------------------------------------------------------- FlexAttention

_flex_fns: Dict[str, Any] = {}


def _flex_fn(device: torch.device) -> Any:
    """Compiled flex on CUDA (eager flex materializes the scores); eager on CPU.

    On CPU, torch 2.9.1's inductor compiles flex's forward but fails on its backward
    ("IndexError: tuple index out of range"), so training there runs flex eagerly
    (measured 3x slower than SDPA with a dense mask: runtime/README.md), and inside a
    compiled layer flex is left out of the graph. On CUDA inside a compiled layer,
    dynamo compiles flex with the rest of the layer.
    """
    from torch.nn.attention.flex_attention import flex_attention

    if device.type == "cuda":
        if torch.compiler.is_compiling():
            return flex_attention
        if "cuda" not in _flex_fns:
            _flex_fns["cuda"] = torch.compile(flex_attention, dynamic=False)
        return _flex_fns["cuda"]
    if "cpu" not in _flex_fns:
        _flex_fns["cpu"] = torch.compiler.disable(flex_attention)
    return _flex_fns["cpu"]


def _block_mask(plan: AttentionPlan, window: Optional[int]) -> Any:
    """One block mask per plan and window, shared by every layer of the forward."""
    if window not in plan._blocks:
        from torch.nn.attention.flex_attention import create_block_mask

        seg = plan.segment_ids

        def mask_mod(b, h, q_idx, kv_idx):
            allowed = q_idx >= kv_idx
            if seg is not None:
                allowed = allowed & (seg[b, q_idx] == seg[b, kv_idx])
            if window is not None:
                allowed = allowed & (q_idx - kv_idx < window)
            return allowed

        rows = plan.batch if seg is not None else None
        plan._blocks[window] = create_block_mask(mask_mod, rows, None, plan.queries, plan.queries, device=plan.device)
    return plan._blocks[window]


def _flex(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, plan: AttentionPlan, window: Optional[int],
          scale: Optional[float], softcap: Optional[float]) -> torch.Tensor:
    dtype = _compute_dtype(q, v)
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    score_mod = None
    if softcap is not None:
        # A tensor, not a Python float: flex traces score_mod with dynamo even when eager, and a
        # float closure that changes between calls turns into a symbolic float it fails on (2.9.1).
        cap = torch.tensor(float(softcap), device=q.device)

        def score_mod(score, b, h, q_idx, kv_idx):
            return torch.tanh(score / cap) * cap

    return _flex_fn(q.device)(q, k, v, score_mod=score_mod, block_mask=_block_mask(plan, window), scale=scale,
                              enable_gqa=q.shape[1] != k.shape[1])


# ---------------------------------------------------------------- flash-attn (CUDA only)

def _varlen(plan: AttentionPlan) -> tuple:
    """``cu_seqlens`` (int32, every segment of every row, padding runs included) and the longest one."""
    if plan._varlen is None:
        b, s = plan.batch, plan.queries
        if plan.segment_ids is None:
            starts = torch.zeros(b, s, dtype=torch.bool, device=plan.device)
        else:
            seg = plan.segment_ids
            starts = torch.zeros_like(seg, dtype=torch.bool)
            starts[:, 1:] = seg[:, 1:] != seg[:, :-1]
        starts[:, 0] = True  # every row starts a sequence
        flat = starts.reshape(-1).nonzero().flatten()
        total = torch.tensor([b * s], device=plan.device)
        cu = torch.cat([flat, total]).to(torch.int32)
        plan._varlen = (cu, int((cu[1:] - cu[:-1]).max()))
    return plan._varlen


def _flash(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, plan: AttentionPlan, window: Optional[int],
           scale: Optional[float], softcap: Optional[float]) -> torch.Tensor:
    from flash_attn import flash_attn_varlen_func

    dtype = _compute_dtype(q, v)
    b, heads, s, d = q.shape
    # flash-attn wants [tokens, heads, head_dim]; GQA is native (kv heads divide q heads).
    q, k, v = (t.to(dtype).transpose(1, 2).reshape(b * s, t.shape[1], d) for t in (q, k, v))
    cu, longest = _varlen(plan)
    out = flash_attn_varlen_func(
        q, k, v, cu, cu, longest, longest, dropout_p=0.0, softmax_scale=scale, causal=True,
        window_size=(-1, -1) if window is None else (window - 1, 0), softcap=0.0 if softcap is None else float(softcap))
    return out.reshape(b, s, heads, d).transpose(1, 2)
