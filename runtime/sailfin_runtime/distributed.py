"""Data parallelism over ``torch.distributed``: which rank trains what, and how ranks agree.

Ranks come from the standard environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``, ``MASTER_PORT``), so ``torchrun``, ``srun`` and ``python3 -m
sailfin_runtime launch`` all start the same code. ``WORLD_SIZE`` absent or 1 is the
single-process path: no process group, no collective, nothing changes.

The global batch stays the spec's ``batchSize * gradientAccumulationSteps`` at every
world size: the step's micro-batches (data.DataOrder, the same order as one process)
are dealt to ranks round-robin, each rank backpropagates its share divided by the
*global* denominator (all-reduced trained tokens or examples), and the gradients are
summed over ranks. So W ranks take the same optimizer step as one process, up to the
order of float additions. Whole micro-batches (not examples) are dealt so that KTO's
per-micro-batch reference point is the same at every world size; ranks without a
micro-batch in a step (gradientAccumulationSteps < WORLD_SIZE) contribute zeros.

Gradients are all-reduced by hand, in flat buckets, rather than through
DistributedDataParallel: ranks may run different numbers of micro-batches in a step
(the last step of an epoch, or none), which DDP's per-backward hooks cannot express.
Every rank holds the whole model on this path: LoRA, and all training on torch 1.13.
Full fine-tuning on a torch with FSDP2 shards instead (fsdp.py); World still deals the
micro-batches and agrees on the totals and the stop flag there.
"""

from __future__ import annotations

import os
from typing import List, Sequence, Tuple

import torch

_BUCKET_BYTES = 32 * 1024 * 1024  # one all-reduce per ~32 MiB of gradients


class World:
    """This process's place among the ranks of a run.

    Args:
        rank: global rank (0 emits events and writes checkpoints).
        size: number of ranks.
        local_rank: rank on this node (picks ``cuda:<local_rank>``).
    """

    def __init__(self, rank: int = 0, size: int = 1, local_rank: int = 0):
        self.rank, self.size, self.local_rank = rank, size, local_rank
        self._device = torch.device("cpu")  # where collectives' small tensors live (start() sets it)

    @classmethod
    def from_env(cls) -> "World":
        """The world the launcher described; one process when ``WORLD_SIZE`` is absent or 1.

        Raises:
            ValueError: a variable is not an integer or the rank is out of range.
        """
        size = int(os.environ.get("WORLD_SIZE", "1") or "1")
        if size <= 1:
            return cls()
        rank = int(os.environ["RANK"])
        local_rank = int(os.environ.get("LOCAL_RANK", "0") or "0")
        if not 0 <= rank < size:
            raise ValueError(f"RANK {rank} is outside WORLD_SIZE {size}")
        return cls(rank, size, local_rank)

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def device(self, device: torch.device) -> torch.device:
        """A CUDA device becomes this rank's GPU on the node; CPU stays CPU."""
        if self.distributed and device.type == "cuda":
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        return device

    def start(self, device: torch.device) -> None:
        """Join the process group (``nccl`` on CUDA, ``gloo`` on CPU) from MASTER_ADDR/PORT."""
        if not self.distributed:
            return
        import torch.distributed as dist

        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, init_method="env://", rank=self.rank, world_size=self.size)
        self._device = device

    def close(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()

    def share(self, micro_batches: Sequence) -> List:
        """This rank's micro-batches of a step: every ``size``-th, starting at its rank."""
        return list(micro_batches[self.rank::self.size])

    def step_totals(self, targets: int, examples: int, stop: bool) -> Tuple[int, int, bool]:
        """The step's trained tokens and examples over all ranks, and whether any rank must stop.

        One small all-reduce per step; agreeing on the stop flag here makes every rank
        stop after the same step however the signal reached them.
        """
        if not self.distributed:
            return targets, examples, stop
        import torch.distributed as dist

        totals = torch.tensor([targets, examples, int(stop)], dtype=torch.float64, device=self._device)
        dist.all_reduce(totals)
        return int(totals[0]), int(totals[1]), bool(totals[2] > 0)

    def sum_scalar(self, value: float) -> float:
        if not self.distributed:
            return value
        import torch.distributed as dist

        total = torch.tensor([value], dtype=torch.float64, device=self._device)
        dist.all_reduce(total)
        return float(total)

    def sum_gradients(self, params: Sequence[torch.nn.Parameter]) -> None:
        """Replace every gradient by its sum over ranks (a rank without one contributes zeros)."""
        if not self.distributed:
            return
        import torch.distributed as dist
        from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        for bucket in _buckets(params):
            grads = [p.grad for p in bucket]
            flat = _flatten_dense_tensors(grads)
            dist.all_reduce(flat)
            for g, synced in zip(grads, _unflatten_dense_tensors(flat, grads)):
                g.copy_(synced)

    def broadcast_parameters(self, params: Sequence[torch.nn.Parameter]) -> None:
        """Start every rank from rank 0's trainable weights (they load the same files; this makes it certain)."""
        if not self.distributed:
            return
        import torch.distributed as dist

        with torch.no_grad():
            for p in params:
                dist.broadcast(p.data, src=0)


def _buckets(params: Sequence[torch.nn.Parameter]) -> List[List[torch.nn.Parameter]]:
    """Consecutive parameters of one dtype, up to _BUCKET_BYTES each."""
    buckets: List[List[torch.nn.Parameter]] = []
    size = 0
    for p in params:
        nbytes = p.numel() * p.element_size()
        if not buckets or size + nbytes > _BUCKET_BYTES or buckets[-1][0].dtype != p.dtype:
            buckets.append([])
            size = 0
        buckets[-1].append(p)
        size += nbytes
    return buckets
