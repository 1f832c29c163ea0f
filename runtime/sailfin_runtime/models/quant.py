"""Weight-only quantization of the decoder's linear layers: int8 per channel, int4 per group.

Formats (safetensors, next to the unquantized tensors under HF names):

- int8 (``bits: 8``): ``<module>.qweight`` I8 ``[out, in]`` and ``<module>.scales``
  ``[out]``; ``scale = absmax(row) / 127`` and ``q = round(w / scale)`` in [-127, 127].
- int4 (``bits: 4``): ``<module>.qweight`` U8 ``[out, in / 2]`` and ``<module>.scales``
  ``[out, in / group]``; ``scale = absmax(group) / 7``, ``q = round(w / scale)`` in
  [-7, 7], stored as ``q + 8`` in a nibble: column ``2j`` in the low nibble of byte
  ``j``, column ``2j + 1`` in the high one. The group runs along the input dim; when
  ``in`` is not a multiple of the requested size the group is the largest divisor of
  ``in`` below it (no padding: every tensor keeps the layer's own shape). The group of
  a module is ``in / scales.shape[1]``, so a loader needs no per-module table.

Scales are stored in the source weight's float dtype (fp32 stays exact). A bf16/fp16
scale is rounded *up* to that dtype before the values are quantized with it, so no
value is clipped and the error stays within half a stored scale.

Only the decoder layers' q/k/v/o and gate/up/down projections are quantized. The
embeddings and ``lm_head`` stay in the source precision: they are a small share of a
7B model's weights but the most sensitive to error (every logit goes through
``lm_head``), and with tied embeddings ``lm_head`` *is* the embedding matrix. Norms and
biases are tiny and stay as they are.

``QuantLinear`` dequantizes in ``forward`` into the activation dtype and calls
``F.linear``: weights stay small in memory, the matmul is the ordinary one (CPU
torch 1.13 and CUDA torch 2.x alike), at the cost of one dequantization per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..protocol import UserError

METHOD = "sailfin-weight-only"
LINEAR_NAMES = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
# Qianfan's compression weights and the bits each means; the scheme is echoed into config.json.
SCHEMES = {"W8A16C16": 8, "INT8-PTQ": 8, "W4A16C16": 4}
_QMAX = {8: 127, 4: 7}


@dataclass
class Quantized:
    """One quantized weight: stored tensors and the group size actually used (None: per channel)."""

    qweight: torch.Tensor
    scales: torch.Tensor
    group_size: Optional[int]


def decoder_linear_names(num_layers: int) -> List[str]:
    """Module names of every linear layer in the decoder layers, in file order."""
    return [f"model.layers.{i}.{name}" for i in range(num_layers) for name in LINEAR_NAMES]


def group_size_for(in_features: int, requested: int) -> int:
    """``requested`` when it divides ``in_features``, else the largest divisor of ``in_features`` below it."""
    size = min(requested, in_features)
    while in_features % size:
        size -= 1
    return size


def _storage_scales(scales: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """fp32 scales in the storage dtype, never rounded down (a smaller scale would clip absmax)."""
    stored = scales.to(dtype)
    low = stored.float() < scales
    if bool(low.any()):
        bumped = (scales * (1 + torch.finfo(dtype).eps)).to(dtype)
        stored = torch.where(low, bumped, stored)
    return stored


def _scales(absmax: torch.Tensor, qmax: int, dtype: torch.dtype) -> torch.Tensor:
    # An all-zero row or group gets the smallest normal scale: its values quantize to 0 either way.
    # (Clamped to the smallest normal number also because rounding up is exact only for normals.)
    return _storage_scales((absmax / qmax).clamp(min=torch.finfo(dtype).tiny), dtype)


def quantize_int8(weight: torch.Tensor) -> Quantized:
    """Per-output-channel symmetric int8 of a ``[out, in]`` float weight."""
    w = weight.detach().float()
    dtype = weight.dtype if weight.is_floating_point() else torch.float32
    scales = _scales(w.abs().amax(dim=1), 127, dtype)
    q = torch.round(w / scales.float()[:, None]).clamp(-127, 127).to(torch.int8)
    return Quantized(q, scales, None)


def pack_int4(q: torch.Tensor) -> torch.Tensor:
    """``[out, in]`` ints in [-8, 7] -> ``[out, in / 2]`` uint8: ``q + 8``, even columns in the low nibble."""
    u = (q.to(torch.int16) + 8).to(torch.uint8)
    return u[:, 0::2] | (u[:, 1::2] << 4)


def unpack_int4(packed: torch.Tensor) -> torch.Tensor:
    """The inverse of ``pack_int4``, as uint8 nibbles ``q + 8`` (``[out, in]``)."""
    low = packed & 0xF
    high = packed >> 4
    return torch.stack((low, high), dim=-1).reshape(packed.shape[0], packed.shape[1] * 2)


def quantize_int4(weight: torch.Tensor, group_size: int) -> Quantized:
    """Group-wise symmetric int4 of a ``[out, in]`` float weight (``in`` must be even).

    Raises:
        UserError: ``in`` is odd (two values share a byte).
    """
    out_features, in_features = weight.shape
    if in_features % 2:
        raise UserError(f"int4 packs two values per byte, but a layer has {in_features} input features (odd)")
    group = group_size_for(in_features, group_size)
    w = weight.detach().float().reshape(out_features, in_features // group, group)
    dtype = weight.dtype if weight.is_floating_point() else torch.float32
    scales = _scales(w.abs().amax(dim=2), 7, dtype)
    q = torch.round(w / scales.float()[..., None]).clamp(-7, 7).reshape(out_features, in_features)
    return Quantized(pack_int4(q), scales, group)


def quantize_weight(weight: torch.Tensor, bits: int, group_size: int) -> Quantized:
    """int8 per channel (``group_size`` unused) or int4 per group."""
    if bits == 8:
        return quantize_int8(weight)
    if bits == 4:
        return quantize_int4(weight, group_size)
    raise ValueError(f"bits must be 8 or 4, got {bits}")


def dequantize(qweight: torch.Tensor, scales: torch.Tensor, bits: int, dtype: torch.dtype) -> torch.Tensor:
    """The ``[out, in]`` weight in ``dtype`` (computed in ``dtype``: q is a small exact integer there)."""
    if bits == 8:
        return qweight.to(dtype) * scales.to(dtype)[:, None]
    q = unpack_int4(qweight).to(dtype) - 8
    out_features, in_features = q.shape
    groups = scales.shape[1]
    return (q.view(out_features, groups, in_features // groups) * scales.to(dtype)[..., None]).view(out_features, in_features)


class QuantLinear(nn.Module):
    """A linear layer holding quantized weights, dequantized on every call.

    Args:
        in_features, out_features: the layer's shape.
        bits: 8 or 4.
        groups: scale columns (1 for int8 per channel; ``in / group`` for int4).
        bias: whether the layer has a bias (kept in float, as it came).
        scale_dtype: dtype of the stored scales.
    """

    def __init__(self, in_features: int, out_features: int, bits: int, groups: int, bias: bool,
                 scale_dtype: torch.dtype = torch.float32):
        super().__init__()
        self.in_features, self.out_features, self.bits = in_features, out_features, bits
        if bits == 8:
            self.register_buffer("qweight", torch.zeros(out_features, in_features, dtype=torch.int8))
            self.register_buffer("scales", torch.zeros(out_features, dtype=scale_dtype))
        else:
            self.register_buffer("qweight", torch.zeros(out_features, in_features // 2, dtype=torch.uint8))
            self.register_buffer("scales", torch.zeros(out_features, groups, dtype=scale_dtype))
        self.bias = nn.Parameter(torch.zeros(out_features), requires_grad=False) if bias else None

    @property
    def group_size(self) -> Optional[int]:
        return None if self.bits == 8 else self.in_features // self.scales.shape[1]

    def weight_as(self, dtype: torch.dtype) -> torch.Tensor:
        """The dequantized ``[out, in]`` weight."""
        return dequantize(self.qweight, self.scales, self.bits, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias.to(x.dtype) if self.bias is not None else None
        return F.linear(x, self.weight_as(x.dtype), bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bits={self.bits}, group_size={self.group_size}"


def quantization_section(bits: int, group_size: Optional[int], scheme: str, modules: List[str],
                         scale_dtype: str) -> Dict[str, Any]:
    """The ``quantization`` object of the output's ``config.json`` (docs/runtime-protocol.md)."""
    return {"method": METHOD, "bits": bits, "groupSize": group_size, "scheme": scheme, "symmetric": True,
            "scaleDtype": scale_dtype, "modules": list(modules)}


def read_section(config_raw: Dict[str, Any], where: str) -> Optional[Dict[str, Any]]:
    """The ``quantization`` section of a parsed config.json, checked; None for an unquantized model.

    Raises:
        UserError: a method or bit width this runtime does not read.
    """
    section = config_raw.get("quantization")
    if section is None:
        return None
    if not isinstance(section, dict) or section.get("method") != METHOD:
        raise UserError(f"quantization method {section.get('method') if isinstance(section, dict) else section!r} "
                        f"is not supported (only {METHOD!r})", where)
    if section.get("bits") not in (8, 4):
        raise UserError(f"quantization bits {section.get('bits')!r} is not 8 or 4", where)
    modules = section.get("modules")
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise UserError("quantization.modules must be a list of module names", where)
    return section


def install(model: nn.Module, section: Dict[str, Any], weights: Dict[str, torch.Tensor], where: str) -> int:
    """Replace the section's ``nn.Linear`` modules by empty ``QuantLinear`` of the stored shapes.

    The caller then loads ``weights`` into the model as usual (``qweight``/``scales``
    are buffers, so they are ``state_dict`` keys).

    Returns:
        How many modules were replaced.

    Raises:
        UserError: a listed module is not a linear layer of this model or its tensors are missing.
    """
    bits = int(section["bits"])
    for name in section["modules"]:
        try:
            linear = model.get_submodule(name)
        except AttributeError:
            linear = None
        if not isinstance(linear, nn.Linear):
            raise UserError(f"quantization.modules lists {name!r}, which is not a linear layer of this model", where)
        scales = weights.get(f"{name}.scales")
        if scales is None or f"{name}.qweight" not in weights:
            raise UserError(f"the weights lack {name}.qweight or {name}.scales", where)
        groups = 1 if bits == 8 else int(scales.shape[1])
        if bits == 4 and (scales.dim() != 2 or linear.in_features % groups):
            raise UserError(f"{name}.scales has shape {tuple(scales.shape)}, which does not divide "
                            f"{linear.in_features} input features into groups", where)
        module = QuantLinear(linear.in_features, linear.out_features, bits, groups, linear.bias is not None,
                             scales.dtype)
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, child, module)
    return len(section["modules"])
