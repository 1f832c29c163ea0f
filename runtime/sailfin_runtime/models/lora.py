"""LoRA adapters with PEFT's semantics and file format.

``LoRALinear`` subclasses ``nn.Linear`` and keeps ``.weight``/``.bias`` under their
original names, so HF checkpoints load into a LoRA model unchanged; the adapter adds
``lora_A``/``lora_B`` (A kaiming-uniform as PEFT, B zero, so training starts from the
base model exactly), ``scaling = alpha / r`` and dropout on the adapter input only.

Files: ``adapter_model.safetensors`` with PEFT's keys
(``base_model.model.<module>.lora_A.weight``) and ``adapter_config.json`` in PEFT's
``LoraConfig`` format, so PEFT loads our adapters and we load PEFT's.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..io import safetensors
from ..protocol import UserError
from .nf4 import NF4Linear

PEFT_PREFIX = "base_model.model."
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"


@dataclass(frozen=True)
class LoraSettings:
    """Rank, alpha, dropout and targets (module-name suffixes, or a PEFT regex string)."""

    r: int
    alpha: float
    dropout: float
    targets: Union[List[str], str]
    use_rslora: bool = False

    @property
    def scaling(self) -> float:
        return self.alpha / math.sqrt(self.r) if self.use_rslora else self.alpha / self.r


class LoRALinear(nn.Linear):
    """``y = x W^T + b + scaling * B(A(dropout(x)))``.

    The base is an ``nn.Linear`` or, in a QLoRA run, an ``NF4Linear``: then ``weight``
    and ``bias`` are None and ``quantized`` computes ``dequant(W) x + b``.
    """

    def __init__(self, base: Union[nn.Linear, NF4Linear], r: int, alpha: float, dropout: float, scaling: float):
        # nn.Module.__init__, not nn.Linear's: that would allocate and initialize a
        # second full weight matrix only to throw it away.
        nn.Module.__init__(self)
        self.in_features, self.out_features = base.in_features, base.out_features
        self.quantized: Optional[NF4Linear] = base if isinstance(base, NF4Linear) else None
        self.weight = None if self.quantized is not None else base.weight  # the same Parameter: no copy, names unchanged
        self.bias = None if self.quantized is not None else base.bias
        device = base.qweight.device if self.quantized is not None else base.weight.device
        self.r, self.alpha, self.scaling = r, alpha, scaling
        self.lora_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.lora_A = nn.Linear(base.in_features, r, bias=False, device=device, dtype=torch.float32)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, device=device, dtype=torch.float32)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))  # PEFT's init_lora_weights=True
        nn.init.zeros_(self.lora_B.weight)
        self.adapter_enabled = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.quantized(x) if self.quantized is not None else F.linear(x, self.weight, self.bias)
        if not self.adapter_enabled:
            return out
        adapter = self.lora_B(self.lora_A(self.lora_dropout(x.to(self.lora_A.weight.dtype))))
        return out + (adapter * self.scaling).to(out.dtype)

    def merged(self) -> nn.Linear:
        """A plain ``nn.Linear`` with the adapter folded into the weight (computed in fp32).

        Raises:
            ValueError: the base is quantized: a QLoRA adapter merges into the original
                full-precision weights, loaded without quantization (export does that).
        """
        if self.quantized is not None:
            raise ValueError("an adapter on an NF4 base merges into the full-precision base weights, not the NF4 copy")
        linear = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                           device=self.weight.device, dtype=self.weight.dtype)
        with torch.no_grad():
            delta = (self.lora_B.weight.float() @ self.lora_A.weight.float()) * self.scaling
            linear.weight.copy_((self.weight.float() + delta).to(self.weight.dtype))
            if self.bias is not None:
                linear.bias.copy_(self.bias)
        return linear


def _matches(name: str, targets: Union[List[str], str]) -> bool:
    """PEFT's rule: a regex string must match the full name; a list entry matches the name or its last parts."""
    if isinstance(targets, str):
        return re.fullmatch(targets, name) is not None
    return any(name == t or name.endswith("." + t) for t in targets)


def _replace(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, module)


def add_lora(model: nn.Module, settings: LoraSettings) -> List[str]:
    """Wrap every targeted ``nn.Linear`` in a ``LoRALinear`` and freeze everything else.

    The adapter init draws from torch's global RNG: seed it first for a reproducible run.

    Returns:
        The names of the adapted modules.

    Raises:
        UserError: no module matches the targets.
    """
    for p in model.parameters():
        p.requires_grad_(False)
    names = [n for n, m in model.named_modules() if isinstance(m, (nn.Linear, NF4Linear)) and not isinstance(m, LoRALinear)
             and n != "lm_head" and not n.endswith(".quantized") and _matches(n, settings.targets)]
    if not names:
        raise UserError(f"no linear layer matches {settings.targets!r}", "hyper.loraTargetModules")
    for name in names:
        _replace(model, name, LoRALinear(model.get_submodule(name), settings.r, settings.alpha, settings.dropout, settings.scaling))
    return names


def lora_modules(model: nn.Module) -> Iterator[tuple]:
    return ((n, m) for n, m in model.named_modules() if isinstance(m, LoRALinear))


@contextlib.contextmanager
def adapters_disabled(model: nn.Module) -> Iterator[None]:
    """The base model, for DPO/KTO reference log-probs, without a second copy of the weights."""
    modules = [m for _, m in lora_modules(model)]
    for m in modules:
        m.adapter_enabled = False
    try:
        yield
    finally:
        for m in modules:
            m.adapter_enabled = True


def merge_lora(model: nn.Module) -> int:
    """Fold every adapter into its base weight, leaving plain ``nn.Linear`` modules.

    Returns:
        How many modules were merged.
    """
    merged = list(lora_modules(model))
    for name, module in merged:
        _replace(model, name, module.merged())
    return len(merged)


def adapter_state_dict(model: nn.Module) -> Dict[str, torch.Tensor]:
    """The adapter weights under PEFT's keys (``base_model.model.<module>.lora_A.weight``)."""
    return {PEFT_PREFIX + k: v for k, v in model.state_dict().items() if ".lora_A." in k or ".lora_B." in k}


def peft_config(settings: LoraSettings, modules: List[str], base_model: str) -> Dict:
    """``adapter_config.json`` as PEFT's ``LoraConfig.save_pretrained`` writes it."""
    targets = settings.targets if isinstance(settings.targets, str) else sorted({m.rsplit(".", 1)[-1] for m in modules})
    return {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": base_model, "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True, "layer_replication": None,
        "layers_pattern": None, "layers_to_transform": None, "loftq_config": {}, "lora_alpha": settings.alpha,
        "lora_dropout": settings.dropout, "megatron_config": None, "megatron_core": "megatron.core",
        "modules_to_save": None, "peft_type": "LORA", "r": settings.r, "rank_pattern": {}, "revision": None,
        "target_modules": targets, "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": settings.use_rslora,
    }


def save_adapter(model: nn.Module, folder: str, settings: LoraSettings, base_model: str) -> None:
    """Write ``adapter_model.safetensors`` and ``adapter_config.json`` into ``folder``."""
    modules = [n for n, _ in lora_modules(model)]
    safetensors.save_file(adapter_state_dict(model), os.path.join(folder, ADAPTER_WEIGHTS), metadata={"format": "pt"})
    with open(os.path.join(folder, ADAPTER_CONFIG), "w", encoding="utf-8") as f:
        json.dump(peft_config(settings, modules, base_model), f, indent=2, sort_keys=True)


def is_adapter_folder(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, ADAPTER_CONFIG))


def read_adapter_settings(folder: str) -> LoraSettings:
    """Read a PEFT ``adapter_config.json``.

    Raises:
        UserError: a PEFT option this runtime does not implement.
    """
    path = os.path.join(folder, ADAPTER_CONFIG)
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    if cfg.get("peft_type", "LORA") != "LORA":
        raise UserError(f"peft_type {cfg.get('peft_type')!r} is not supported (LORA only)", path)
    for key, ok in (("use_dora", False), ("fan_in_fan_out", False), ("modules_to_save", None)):
        if cfg.get(key) not in (ok, None, [], False):
            raise UserError(f"{key}={cfg.get(key)!r} is not supported", path)
    if cfg.get("bias", "none") != "none":
        raise UserError(f"bias={cfg.get('bias')!r} is not supported (none only)", path)
    if cfg.get("rank_pattern") or cfg.get("alpha_pattern") or cfg.get("layers_to_transform") is not None:
        raise UserError("rank_pattern, alpha_pattern and layers_to_transform are not supported", path)
    return LoraSettings(r=int(cfg["r"]), alpha=float(cfg["lora_alpha"]), dropout=float(cfg.get("lora_dropout") or 0.0),
                        targets=cfg["target_modules"], use_rslora=bool(cfg.get("use_rslora", False)))


def load_adapter_weights(model: nn.Module, folder: str) -> None:
    """Copy a PEFT adapter's weights into a model that ``add_lora`` prepared with the same settings.

    Accepts PEFT's keys with or without the adapter name (``lora_A.default.weight``).

    Raises:
        UserError: the adapter does not fit the model.
    """
    path = os.path.join(folder, ADAPTER_WEIGHTS)
    if not os.path.isfile(path):
        raise UserError(f"no {ADAPTER_WEIGHTS} in {folder}", folder)
    raw = safetensors.load_file(path)
    weights = {re.sub(r"\.(lora_[AB])\.default\.", r".\1.", k): v for k, v in raw.items()}
    own = {PEFT_PREFIX + k: v for k, v in model.state_dict().items() if ".lora_A." in k or ".lora_B." in k}
    missing = sorted(set(own) - set(weights))
    extra = sorted(set(weights) - set(own))
    if missing or extra:
        raise UserError(f"adapter does not fit the model: missing {missing[:2]}, unexpected {extra[:2]}", path)
    with torch.no_grad():
        for name, target in own.items():
            if tuple(weights[name].shape) != tuple(target.shape):
                raise UserError(f"{name} has shape {tuple(weights[name].shape)}, expected {tuple(target.shape)}", path)
            target.copy_(weights[name].to(target.dtype))


def load_adapter(model: nn.Module, folder: str, settings: Optional[LoraSettings] = None) -> LoraSettings:
    """Add LoRA modules as ``adapter_config.json`` describes and load the adapter weights."""
    settings = settings or read_adapter_settings(folder)
    add_lora(model, settings)
    load_adapter_weights(model, folder)
    return settings
