"""Deterministic data order: which examples every optimizer step trains on.

An *example* is one row for packed (SFT, PostPretrain) and KTO splits, and one
(chosen, rejected) pair of consecutive rows for DPO. Epoch ``e`` visits the
examples in ``permutation(seed, e)``; step ``k`` of the epoch takes the slice
``[k * per_step, (k + 1) * per_step)`` of it, cut into micro-batches of
``batchSize`` examples. The order is a pure function of (seed, epoch, step), so a
resumed run needs only the step number to continue with exactly the same batches.
"""

from __future__ import annotations

import math
from typing import List

import numpy as np

from .io.shards import Rows, Split


class DataOrder:
    """Examples per step and their rows.

    Args:
        split: the training split.
        batch_size: examples per micro-batch.
        accumulation: micro-batches per optimizer step.
        seed: the run's seed.
    """

    def __init__(self, split: Split, batch_size: int, accumulation: int, seed: int):
        self.split = split
        self.pairs = split.kind == "preference"
        self.examples = split.rows // 2 if self.pairs else split.rows
        self.batch_size = batch_size
        self.per_step = batch_size * accumulation
        self.seed = seed
        self.steps_per_epoch = max(1, math.ceil(self.examples / self.per_step))
        self._cached_epoch = -1
        self._order = np.empty(0, dtype=np.int64)

    def permutation(self, epoch: int) -> np.ndarray:
        """The example order of an epoch (PCG64 seeded by (seed, epoch): stable across numpy versions)."""
        if epoch != self._cached_epoch:
            self._order = np.random.Generator(np.random.PCG64([self.seed, epoch])).permutation(self.examples)
            self._cached_epoch = epoch
        return self._order

    def micro_batches(self, step: int) -> List[np.ndarray]:
        """Example indices of each micro-batch of global step ``step`` (0-based)."""
        epoch, k = divmod(step, self.steps_per_epoch)
        examples = self.permutation(epoch)[k * self.per_step:(k + 1) * self.per_step]
        return [examples[i:i + self.batch_size] for i in range(0, len(examples), self.batch_size)]

    def rows(self, examples: np.ndarray) -> Rows:
        """The rows of these examples; for pairs: chosen, rejected, chosen, rejected, ..."""
        if self.pairs:
            examples = np.stack([2 * examples, 2 * examples + 1], axis=1).reshape(-1)
        return self.split.get(examples)


def eval_batches(split: Split, batch_size: int) -> List[np.ndarray]:
    """Example indices of the validation split in order, ``batch_size`` examples at a time."""
    examples = split.rows // 2 if split.kind == "preference" else split.rows
    return [np.arange(i, min(i + batch_size, examples)) for i in range(0, examples, batch_size)]
