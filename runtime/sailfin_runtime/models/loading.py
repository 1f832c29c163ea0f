"""Load a model folder for inference: plain or weight-only quantized, on a device, in a dtype.

A folder whose ``config.json`` has a ``quantization`` section (written by the
``quantize`` recipe) gets ``QuantLinear`` layers in place of the listed linear
layers before its weights are loaded; every other folder loads as training does.
"""

from __future__ import annotations

from typing import Tuple

import torch

from .. import _compat
from ..io import safetensors
from ..protocol import UserError
from . import quant
from .decoder import CausalLM, ModelConfig

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """``auto`` -> bfloat16 on CUDA where supported (else float16), float32 on CPU.

    CPU stays in float32 by default: without native bf16 instructions bf16 matmuls are
    emulated and slower, and float16 matmuls are not implemented on CPU by torch 1.13.

    Raises:
        ValueError: an unknown name, or float16 on CPU.
    """
    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {name!r}: use auto, {', '.join(DTYPES)}")
    if name == "float16" and device.type == "cpu":
        raise ValueError("float16 is not supported on CPU (use float32 or bfloat16)")
    return DTYPES[name]



def resolve_placement(device_name: str, dtype_name: str) -> Tuple[torch.device, torch.dtype]:
    """A spec's ``device`` and ``dtype`` resolved, or a UserError naming the field that cannot be had here."""
    try:
        device = _compat.resolve_device(device_name)
    except ValueError as exc:
        raise UserError(str(exc), "device") from None
    try:
        return device, resolve_dtype(dtype_name, device)
    except ValueError as exc:
        raise UserError(str(exc), "dtype") from None

def load_model(model_dir: str, device: torch.device, dtype: torch.dtype, field: str = "modelDir") -> CausalLM:
    """A ``CausalLM`` in eval mode with the folder's weights, on ``device`` in ``dtype``.

    Quantized layers keep their integer weights; their scales and biases take ``dtype``,
    and they dequantize into the activations' dtype on every call.

    Raises:
        UserError: naming ``field``: no config.json, missing or mismatched weights.
    """
    config = ModelConfig.from_dir(model_dir)
    weights = safetensors.load_weights(model_dir, field)
    with _compat.skip_init():
        model = CausalLM(config)
    section = quant.read_section(config.raw, field)
    if section is not None:
        quant.install(model, section, weights, field)
    model.load_hf_state_dict(weights, field)
    del weights
    model.requires_grad_(False)
    return model.to(device=device, dtype=dtype).eval()


def check_vocabulary(config: ModelConfig, token: int, field: str) -> None:
    """A token id a spec gives must be inside the model's vocabulary.

    Raises:
        UserError: naming ``field``.
    """
    if not 0 <= token < config.vocab_size:
        raise UserError(f"token id {token} is outside the model's vocabulary (vocab_size {config.vocab_size})", field)
