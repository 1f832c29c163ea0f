"""Held-out perplexity of a model on a token-shard split, as the finetune recipe defines it.

The loss is the summed next-token NLL of the trained targets (``trained_targets``:
``mask == 1``, inside one sample) divided by their count; perplexity is its ``exp``
(``nll_perplexity``). The rows are those the finetune recipe's perplexity reads:
every row of a packed split, the chosen rows of a preference split, the desirable
rows of a KTO split.
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np
import torch

from .io.shards import Split, trained_targets
from .losses import target_logps


def eval_rows(split: Split, max_rows: int) -> np.ndarray:
    """Global indices of the (at most ``max_rows``) rows perplexity is taken on, in order."""
    if split.kind == "packed":
        rows = np.arange(split.rows)
    elif split.kind == "preference":
        rows = np.arange(0, split.rows, 2)
    else:  # kto: desirable rows only
        flags = split.get(np.arange(split.rows)).kto
        rows = np.nonzero(flags == 1)[0]
    return rows[:max_rows].astype(np.int64)


def row_batches(rows: np.ndarray, seq_len: int, tokens_per_batch: int = 4096) -> List[np.ndarray]:
    """``rows`` cut into batches of about ``tokens_per_batch`` tokens (at least one row each)."""
    size = max(1, tokens_per_batch // seq_len)
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def batch_nll(model, split: Split, rows: np.ndarray, device: torch.device) -> Tuple[float, int]:
    """Summed NLL of the trained targets of these rows, and how many targets there are."""
    data = split.get(rows)
    ids = torch.from_numpy(data.ids).to(device)
    seg = torch.from_numpy(data.seg).to(device)
    selected = torch.from_numpy(trained_targets(data.mask, data.seg)).to(device)
    tokens = int(selected.sum())
    if tokens == 0:
        return 0.0, 0
    with torch.no_grad():
        logps = target_logps(model, ids, seg, selected).logps
    return float(-logps.double().sum()), tokens
