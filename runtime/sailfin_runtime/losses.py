"""Losses: next-token log-probs on trained targets, SFT, DPO and KTO.

Label shift happens here: the hidden state at position ``t - 1`` predicts token
``t``, and only targets that ``trained_targets`` selects carry loss. ``lm_head`` is
applied to those positions only, so response-only SFT never builds the full
``[batch, seq, vocab]`` logits (for a 150k vocabulary at seq 2048 that tensor alone
is 1.2 GB per row in fp32), and in chunks of positions (``LinearTargetLogps``), so
not even ``[n_selected, vocab]`` exists at once: peak memory is one chunk's logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F

from . import _compat


@dataclass
class TokenLogps:
    """Log-probs of the trained targets of a batch of rows."""

    logps: torch.Tensor  # [n_targets] fp32
    row: torch.Tensor  # [n_targets] row index of each target
    rows: int

    def per_row_sum(self) -> torch.Tensor:
        """Sum of target log-probs per row, ``[rows]``: the sequence log-likelihood DPO/KTO use."""
        out = torch.zeros(self.rows, dtype=self.logps.dtype, device=self.logps.device)
        return out.index_add(0, self.row, self.logps)

    def per_row_count(self) -> torch.Tensor:
        return torch.bincount(self.row, minlength=self.rows)


def target_logps(model, ids: torch.Tensor, seg: torch.Tensor, selected: torch.Tensor) -> TokenLogps:
    """Log-probabilities of the selected next-token targets.

    Args:
        model: a ``CausalLM``.
        ids: ``[b, s]`` token ids.
        seg: ``[b, s]`` segment ids.
        selected: ``[b, s - 1]`` bool, which targets ``1..s-1`` carry loss.
    """
    targets = ids[:, 1:][selected]
    logps = model(ids, seg, selected=selected, targets=targets)
    row = torch.arange(ids.shape[0], device=ids.device)[:, None].expand_as(selected)[selected]
    return TokenLogps(logps=logps, row=row, rows=ids.shape[0])


# Positions per chunk so that one chunk's fp32 logits stay near 256 MiB (Qwen's 151,936
# vocabulary: 441 positions, still a GEMM large enough to keep a GPU busy).
CHUNK_LOGITS = 1 << 26


def linear_target_logps(hidden: torch.Tensor, lm_head: torch.nn.Module, targets: torch.Tensor,
                        chunk: Optional[int] = None, softcap: Optional[float] = None) -> torch.Tensor:
    """``log_softmax(lm_head(hidden))[i, targets[i]]`` in fp32, ``[n]``, never holding all the logits.

    An ``nn.Linear`` head goes through ``LinearTargetLogps``; any other head (a quantized
    or LoRA one) is applied whole. ``softcap``: the logits become ``softcap * tanh(logits /
    softcap)`` first (Gemma 2's final soft-capping). Call it inside ``CausalLM.forward``
    (FSDP2 gathers the head's weight in forward hooks only).
    """
    if type(lm_head) is not torch.nn.Linear or lm_head.bias is not None:
        logits = lm_head(hidden).float()
        if softcap is not None:
            logits = torch.tanh(logits / softcap) * softcap
        return -F.cross_entropy(logits, targets, reduction="none")
    size = chunk or max(1, CHUNK_LOGITS // lm_head.out_features)
    dtype = _compat.autocast_dtype(hidden.device.type) or torch.promote_types(hidden.dtype, lm_head.weight.dtype)
    return LinearTargetLogps.apply(hidden, lm_head.weight, targets, size, dtype, softcap)


class LinearTargetLogps(torch.autograd.Function):
    """Target log-probs of a bias-free linear head, chunk by chunk, recomputed in backward.

    Forward keeps only each position's log-sum-exp; backward recomputes a chunk's
    logits, turns them into ``d logp / d logits = onehot(target) - softmax`` and
    multiplies back. The matmuls run in ``dtype`` (autocast's, as ``nn.Linear`` would),
    the softmax in fp32: the same numbers as ``lm_head(hidden).float()`` then
    ``cross_entropy``, without the ``[n, vocab]`` tensor.
    """

    @staticmethod
    def forward(ctx, hidden, weight, targets, chunk, dtype, softcap):  # type: ignore[override]
        with torch.autocast(device_type=hidden.device.type, enabled=False):
            w = weight.to(dtype)
            out = torch.empty(hidden.shape[0], dtype=torch.float32, device=hidden.device)
            lse = torch.empty_like(out)
            for begin in range(0, hidden.shape[0], chunk):
                end = begin + chunk
                logits = _capped((hidden[begin:end].to(dtype) @ w.t()).float(), softcap)
                lse[begin:end] = torch.logsumexp(logits, dim=-1)
                out[begin:end] = logits.gather(1, targets[begin:end, None])[:, 0] - lse[begin:end]
        ctx.save_for_backward(hidden, weight, targets, lse)
        ctx.chunk, ctx.dtype, ctx.softcap = chunk, dtype, softcap
        return out

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        hidden, weight, targets, lse = ctx.saved_tensors
        chunk, dtype, softcap = ctx.chunk, ctx.dtype, ctx.softcap
        need_hidden, need_weight = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_hidden = torch.empty_like(hidden) if need_hidden else None
        grad_weight = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) if need_weight else None
        with torch.autocast(device_type=hidden.device.type, enabled=False):
            w = weight.to(dtype)
            for begin in range(0, hidden.shape[0], chunk):
                end = begin + chunk
                h = hidden[begin:end].to(dtype)
                logits = _capped((h @ w.t()).float(), softcap)
                grad_logits = -torch.exp(logits - lse[begin:end, None])
                grad_logits.scatter_add_(1, targets[begin:end, None], torch.ones_like(lse[begin:end, None]))
                grad_logits = grad_logits * grad_out[begin:end, None]
                if softcap is not None:  # d(cap * tanh(z / cap))/dz = 1 - tanh^2
                    grad_logits = grad_logits * (1 - (logits / softcap).square())
                grad_logits = grad_logits.to(dtype)
                if need_hidden:
                    grad_hidden[begin:end] = (grad_logits @ w).to(hidden.dtype)
                if need_weight:
                    grad_weight += (grad_logits.t() @ h).float()
        return grad_hidden, None if grad_weight is None else grad_weight.to(weight.dtype), None, None, None, None


def _capped(logits: torch.Tensor, softcap: Optional[float]) -> torch.Tensor:
    return logits if softcap is None else torch.tanh(logits / softcap) * softcap


def dpo_losses(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
               ref_rejected: torch.Tensor, beta: float) -> torch.Tensor:
    """Sigmoid DPO loss per pair: ``-log σ(β((π_c - ref_c) - (π_r - ref_r)))`` (Rafailov et al., TRL's default)."""
    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    return -F.logsigmoid(beta * margin)


def kto_losses(policy: torch.Tensor, reference: torch.Tensor, desirable: torch.Tensor, kl: torch.Tensor,
               beta: float) -> torch.Tensor:
    """KTO loss per row (Ethayarajh et al. 2024; TRL's ``kto_loss`` with unit class weights).

    Desirable rows: ``1 - σ(β(r - z))``; undesirable rows: ``1 - σ(β(z - r))``, where
    ``r`` is the row's policy/reference log-ratio and ``z`` the detached KL estimate.
    """
    ratio = policy - reference
    return torch.where(desirable.bool(), 1 - torch.sigmoid(beta * (ratio - kl)), 1 - torch.sigmoid(beta * (kl - ratio)))


def kto_mismatched_rows(ids: torch.Tensor, mask: torch.Tensor, seg: torch.Tensor, pad_id: int):
    """Rows pairing each prompt with the *next* row's completion, for KTO's KL estimate.

    TRL's default builds the KL batch by shifting completions by one within the batch
    (prompt ``i`` with completion ``i + 1``); the reference point ``z`` is then
    ``max(0, mean(log π(y'|x) - log ref(y'|x)))`` over those mismatched pairs, detached.
    A row is one segment: prompt tokens (mask 0), then completion tokens (mask 1).
    With a batch of one row the "next" completion is the row's own.

    Returns:
        (ids, mask, seg) of the same shape, padded with ``pad_id``, truncated to the row length.
    """
    b, s = ids.shape
    out_ids = torch.full_like(ids, pad_id)
    out_mask = torch.zeros_like(mask)
    out_seg = torch.zeros_like(seg)
    length = (seg > 0).sum(dim=1).tolist()
    trained = (mask == 1) & (seg > 0)
    first = [int(trained[r].nonzero()[0]) if bool(trained[r].any()) else length[r] for r in range(b)]
    for i in range(b):
        j = (i + 1) % b
        prompt = ids[i, :first[i]]
        row_ids = torch.cat([prompt, ids[j, first[j]:length[j]]])[:s]
        row_mask = torch.cat([torch.zeros_like(prompt, dtype=mask.dtype), mask[j, first[j]:length[j]]])[:s]
        n = row_ids.shape[0]
        out_ids[i, :n] = row_ids
        out_mask[i, :n] = row_mask
        out_seg[i, :n] = 1
    return out_ids, out_mask, out_seg


def nll_perplexity(sum_nll: float, tokens: int) -> Optional[float]:
    """``exp(mean NLL)``; None without tokens. Capped to keep JSON finite."""
    import math

    if tokens == 0:
        return None
    return math.exp(min(sum_nll / tokens, 700.0))
