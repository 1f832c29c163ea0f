"""NF4: QLoRA's 4-bit NormalFloat, the frozen-base format of a ``loraBaseQuantization: NF4`` run.

Format (in memory only: nothing NF4 is ever written to disk; adapters are saved
over the unquantized base's names and the base is re-quantized from its weights
when a run resumes, deterministically):

- the 16 code values are ``CODE`` below: bitsandbytes' NF4 table, i.e. the
  quantiles of N(0, 1) normalized to [-1, 1] with an exact 0 (QLoRA, Dettmers et
  al. 2023, §3; ``code_from_normal_quantiles`` rebuilds it, a test compares);
- the weight is flattened row-major and cut into blocks of ``BLOCK_SIZE`` (64)
  values, the last one padded with zeros; each block keeps its absmax in fp32
  and every value becomes the index of the code nearest to ``w / absmax``;
- two indices per byte (``qweight`` uint8 ``[ceil(n / 64) * 32]``): value ``2j``
  in the high nibble of byte ``j``, value ``2j + 1`` in the low one (bitsandbytes'
  order).

No double quantization: the fp32 absmax costs 32 / 64 = 0.5 bit per weight
(4.5 bits in all); QLoRA's 8-bit second level would save 0.37 bit (about 0.3 GB
on an 8B model) and was left out as not needed to fit a 24 GB card.

Only the decoder layers' q/k/v/o and gate/up/down projections are quantized
(``quant.LINEAR_NAMES``): embeddings, ``lm_head`` and norms stay as they are.

``NF4Linear`` dequantizes on every call into the compute dtype (the autocast
dtype, bf16 on GPU, else the input's) and multiplies with the ordinary matmul.
The dequantized weight is not kept for backward (``_NF4Matmul`` saves only the
packed weight and dequantizes again for the input gradient), so activations do
not grow by a full-precision copy of every layer; the weight never gets a
gradient. The transient copy is one layer's weight (an 8B model's largest,
14336 x 4096 in bf16, is 117 MB).
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import _compat
from .quant import LINEAR_NAMES

BLOCK_SIZE = 64
CODE = (
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
)
# bitsandbytes' create_normal_map offset: the outermost quantile, so that +-1 land on finite values.
_OFFSET = 0.9677083


def code_from_normal_quantiles() -> torch.Tensor:
    """QLoRA's construction of the NF4 table: 8 positive and 7 negative N(0, 1) quantiles, 0, scaled to [-1, 1]."""
    positive = torch.special.ndtri(torch.linspace(_OFFSET, 0.5, 9, dtype=torch.float64)[:-1])
    negative = -torch.special.ndtri(torch.linspace(_OFFSET, 0.5, 8, dtype=torch.float64)[:-1])
    values = torch.cat([positive, negative, torch.zeros(1, dtype=torch.float64)]).sort().values
    return values / values.max()


def _code(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(CODE, dtype=dtype, device=device)


def quantize(weight: torch.Tensor) -> Dict[str, torch.Tensor]:
    """``weight`` (any shape, float) -> ``{"qweight": uint8 packed indices, "absmax": fp32 per block}``.

    Computed in fp32 on the weight's device; nearest code by bucketing on the
    midpoints between codes (no [n, 16] distance matrix), so CPU and CUDA agree.
    """
    flat = weight.detach().reshape(-1).float()
    n = flat.numel()
    blocks = max(1, math.ceil(n / BLOCK_SIZE))
    padded = torch.zeros(blocks * BLOCK_SIZE, dtype=torch.float32, device=flat.device)
    padded[:n] = flat
    padded = padded.view(blocks, BLOCK_SIZE)
    absmax = padded.abs().amax(dim=1)
    # An all-zero block keeps absmax 0 and dequantizes to 0 (code 7 is exactly 0); divide by 1 there.
    normalized = padded / torch.where(absmax > 0, absmax, torch.ones_like(absmax))[:, None]
    code = _code(flat.device, torch.float32)
    midpoints = (code[1:] + code[:-1]) / 2
    idx = torch.bucketize(normalized, midpoints).to(torch.uint8).view(-1)
    return {"qweight": (idx[0::2] << 4) | idx[1::2], "absmax": absmax}


_PAIRS: Dict[tuple, torch.Tensor] = {}


def _pairs(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``[256, 2]``: byte ``b`` -> ``(CODE[b >> 4], CODE[b & 15])``, made once per device and dtype."""
    key = (str(device), dtype)
    if key not in _PAIRS:
        code = _code(device, dtype)
        _PAIRS[key] = torch.stack((code.repeat_interleave(16), code.repeat(16)), dim=1)
    return _PAIRS[key]


def dequantize(qweight: torch.Tensor, absmax: torch.Tensor, shape: torch.Size, dtype: torch.dtype) -> torch.Tensor:
    """The inverse of ``quantize``, in ``dtype`` (code lookup and scale in that dtype).

    One lookup per byte in a 256-entry pair table with int32 indices, scaled in place:
    the transient memory is the output plus 4 bytes a byte of ``qweight`` (measured 3x
    faster on CPU than unpacking nibbles into int64 indices).
    """
    values = _pairs(qweight.device, dtype).index_select(0, qweight.view(-1).int()).view(absmax.shape[0], BLOCK_SIZE)
    values.mul_(absmax.to(dtype)[:, None])
    n = 1
    for d in shape:
        n *= d
    return values.view(-1)[:n].view(shape)


def _autocast_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype autocast would run a matmul on ``x`` in, or ``x``'s own dtype outside autocast."""
    return _compat.autocast_dtype(x.device.type) or x.dtype


class _NF4Matmul(torch.autograd.Function):
    """``x @ dequant(W)^T`` that saves the packed weight, not the dequantized one, for backward."""

    @staticmethod
    def forward(ctx, x, qweight, absmax, shape, dtype):  # type: ignore[override]
        ctx.save_for_backward(qweight, absmax)
        ctx.shape, ctx.dtype, ctx.x_dtype = shape, dtype, x.dtype
        return F.linear(x.to(dtype), dequantize(qweight, absmax, shape, dtype))

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None
        qweight, absmax = ctx.saved_tensors
        weight = dequantize(qweight, absmax, ctx.shape, grad.dtype)
        return grad.matmul(weight).to(ctx.x_dtype), None, None, None, None


class NF4Linear(nn.Module):
    """A frozen linear layer whose weight is NF4 (see the module doc); the bias stays as it came, frozen."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        packed = quantize(linear.weight)
        self.register_buffer("qweight", packed["qweight"])
        self.register_buffer("absmax", packed["absmax"])
        self.bias = linear.bias
        if self.bias is not None:
            self.bias.requires_grad_(False)

    @property
    def shape(self) -> torch.Size:
        return torch.Size((self.out_features, self.in_features))

    def weight_as(self, dtype: torch.dtype) -> torch.Tensor:
        """The dequantized ``[out, in]`` weight (a fresh tensor: for tests and inspection)."""
        return dequantize(self.qweight, self.absmax, self.shape, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = _autocast_dtype(x)
        out = _NF4Matmul.apply(x, self.qweight, self.absmax, self.shape, dtype)
        return out if self.bias is None else out + self.bias.to(out.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, nf4 block={BLOCK_SIZE}"


def quantize_decoder(model: nn.Module, device: Optional[torch.device] = None) -> List[str]:
    """Replace every plain ``nn.Linear`` among the decoder layers' projections by an ``NF4Linear``.

    Each weight is quantized on ``device`` (default: where it is) one layer at a
    time, so a GPU never holds the whole full-precision base. Layers already
    quantized (or wrapped by LoRA) are left alone, so a second call changes nothing.

    Returns:
        The names of the quantized modules.
    """
    names = [n for n, m in model.named_modules()
             if type(m) is nn.Linear and any(n.endswith("." + s) for s in LINEAR_NAMES) and ".layers." in f".{n}"]
    for name in names:
        linear = model.get_submodule(name)
        if device is not None:
            linear.to(device)
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent), child, NF4Linear(linear))
    return names


def quantized_parameters(model: nn.Module) -> int:
    """How many base weights sit in NF4 buffers (``count_parameters`` sees parameters only)."""
    return sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, NF4Linear))


def model_bytes(model: nn.Module) -> int:
    """Bytes of every parameter and buffer of ``model`` (tied tensors once)."""
    seen, total = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        if id(t) not in seen:
            seen.add(id(t))
            total += t.numel() * t.element_size()
    return total
