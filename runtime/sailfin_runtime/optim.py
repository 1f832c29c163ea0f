"""AdamW parameter groups and the learning-rate schedule (Hugging Face Trainer's formulas)."""

from __future__ import annotations

import math
from typing import Callable, Dict, List

import torch.nn as nn


def param_groups(model: nn.Module, weight_decay: float) -> List[Dict]:
    """Trainable parameters split into decayed and non-decayed groups.

    Norm weights and biases (every parameter with fewer than 2 dimensions) get no
    weight decay, as in Hugging Face Trainer and nanoGPT; matrices and embeddings do.
    """
    decay, no_decay = [], []
    for _, p in model.named_parameters():  # tied weights appear once
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


def warmup_steps(total_steps: int, warmup_ratio: float) -> int:
    """``ceil(ratio * total)``, as ``TrainingArguments.get_warmup_steps``."""
    return int(math.ceil(total_steps * warmup_ratio))


def lr_multiplier(name: str, warmup: int, total: int) -> Callable[[int], float]:
    """The LR factor at each step: linear warm-up, then ``cosine`` to 0, ``linear`` to 0, or ``constant``.

    Same formulas as ``transformers.get_{cosine,linear,constant}_schedule_with_warmup``.
    """

    def factor(step: int) -> float:
        if step < warmup:
            return float(step) / float(max(1, warmup))
        if name == "constant":
            return 1.0
        progress = float(step - warmup) / float(max(1, total - warmup))
        if name == "linear":
            return max(0.0, 1.0 - progress)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))

    return factor
