"""Losses: next-token log-probs on trained targets, SFT, DPO and KTO.

Label shift happens here: the hidden state at position ``t - 1`` predicts token
``t``, and only targets that ``trained_targets`` selects carry loss. ``lm_head`` is
applied to those positions only, so response-only SFT never builds the full
``[batch, seq, vocab]`` logits (for a 150k vocabulary at seq 2048 that tensor alone
is 1.2 GB per row in fp32).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F


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
    logits = model(ids, seg, selected=selected).float()
    targets = ids[:, 1:][selected]
    logps = -F.cross_entropy(logits, targets, reduction="none")
    row = torch.arange(ids.shape[0], device=ids.device)[:, None].expand_as(selected)[selected]
    return TokenLogps(logps=logps, row=row, rows=ids.shape[0])


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
