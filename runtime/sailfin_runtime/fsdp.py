"""FSDP2 (``fully_shard``) for full fine-tuning on several ranks: shard, clip, gather checkpoints.

Used by recipes/finetune.py when the run has more than one rank, trains every weight
(not LoRA) and ``_compat.has_fsdp2()``; torch.distributed.fsdp is imported inside the
functions, so torch 1.13 can import this module and never call it.

Each decoder layer is one FSDP unit and the root (embeddings, final norm, ``lm_head``;
a tied ``lm_head`` shares its weight with the embeddings, so both stay in the root) is
another: a rank holds 1/W of every weight, gradient and AdamW moment, and gathers one
layer's weights at a time for its forward and backward. Gradients are reduce-scattered
as a SUM (divide factor 1), because the recipe already divides each rank's loss by the
step's *global* token (or example) count, as on the hand-written data-parallel path; so
the optimizer step is that of one process with the whole batch.

Checkpoints are gathered: rank 0 writes the usual files (``model.safetensors`` under
Hugging Face names, ``optimizer.pt`` in ``torch.optim``'s own index-keyed format), so
publish, export and merge read them unchanged and a run resumes from them at any world
size, on FSDP, on the hand-written data-parallel path or in one process. The road not
taken, sharded ``torch.distributed.checkpoint`` folders, saves without a gather but needs
a conversion before any of those readers, and its resharding-on-load is what the
gathered files give for free; the gather costs rank 0 CPU memory for one full copy of
the weights and moments, which any model this runtime exports needs anyway.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

import torch

from .distributed import World


def shard(model: torch.nn.Module, layers: Sequence[torch.nn.Module], world: World, device: torch.device) -> None:
    """``fully_shard`` each layer, then the root, over all ranks (1-D mesh); moves the shards to ``device``.

    Args:
        model: the whole model (CPU or ``device``); its parameters become DTensors in place.
        layers: its decoder layers, one FSDP unit each.
        world: the ranks (the process group must be started).
        device: this rank's device (``cpu`` with gloo, ``cuda:<local_rank>`` with nccl).
    """
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import FSDPModule, fully_shard

    mesh = init_device_mesh(device.type, (world.size,))
    for layer in layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    for module in model.modules():
        if isinstance(module, FSDPModule):  # the setters are per unit, not recursive
            module.set_gradient_divide_factor(1.0)
            module.set_force_sum_reduction_for_comms(True)


def clip_grad_norm(params: List[torch.nn.Parameter], max_norm: float) -> float:
    """``clip_grad_norm_`` over sharded gradients: the norm of the whole gradient, on every rank."""
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    full = getattr(norm, "full_tensor", None)  # a DTensor: its pieces are summed over ranks
    return float(full() if full is not None else norm)


def _options(**extra):
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, **extra)


def full_model_state(model: torch.nn.Module) -> Dict[str, torch.Tensor]:
    """The whole state dict on rank 0's CPU (empty on the other ranks); every rank must call it."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    return get_model_state_dict(model, options=_options(cpu_offload=True))


def full_optimizer_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """``optimizer.state_dict()`` as one process would have it, on rank 0 (empty elsewhere); every rank calls it.

    torch.distributed.checkpoint keys the state by parameter name; it is renumbered in
    param-group order, which is ``torch.optim``'s own numbering.
    """
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    named = get_optimizer_state_dict(model, optimizer, options=_options(cpu_offload=True))
    if not named:
        return {}
    index: Dict[str, int] = {}
    for group in named["param_groups"]:
        for name in group["params"]:
            index[name] = len(index)
    return {"state": {index[name]: state for name, state in named["state"].items()},
            "param_groups": [{**group, "params": [index[name] for name in group["params"]]}
                             for group in named["param_groups"]]}


def load_optimizer_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer, full: dict) -> None:
    """Shard an index-keyed, whole ``optimizer.state_dict()`` (any world size wrote it) into ``optimizer``.

    Every rank passes the same ``full`` (each read the checkpoint's file).
    """
    from torch.distributed.checkpoint.state_dict import set_optimizer_state_dict

    names = {id(p): name for name, p in model.named_parameters()}
    order = [names[id(p)] for group in optimizer.param_groups for p in group["params"]]
    named = {"state": {order[int(i)]: state for i, state in full["state"].items()},
             "param_groups": [{**group, "params": [order[int(i)] for i in group["params"]]}
                              for group in full["param_groups"]]}
    set_optimizer_state_dict(model, optimizer, named, options=_options())
