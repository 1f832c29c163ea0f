"""One decoder for Llama and Qwen2, with Hugging Face parameter names.

Both families are the same network: RMSNorm (computed in fp32), rotary position
embeddings in HF's ``rotate_half`` convention, grouped-query attention, a SwiGLU
MLP, tied or untied embeddings. They differ only in biases: Qwen2 has q/k/v biases
(never o_proj), Llama has ``attention_bias`` (q/k/v/o) and ``mlp_bias``. Module
names follow ``transformers`` exactly, so ``state_dict()`` keys are HF keys and HF
safetensors load directly.

Packed rows: ``segment_ids`` (1, 2, ... per sample, 0 for padding) make attention
block-diagonal and causal, and positions restart at 0 in every segment, so a row
holding several samples gives each sample the logits it would get alone.

Generation: ``attention_mask`` (1 for tokens, 0 for left padding) and a ``KVCache``
give incremental decoding: each call feeds only the new tokens, attends to the
cached keys and values, and positions count a row's real tokens, so a left-padded
row gets the logits it would get alone.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import _compat
from ..losses import linear_target_logps
from ..protocol import UserError
from .attention import AttentionPlan, attend, plan_attention

SUPPORTED_TYPES = ("llama", "qwen2")


@dataclass
class ModelConfig:
    """The fields of a HF ``config.json`` this decoder needs (HF names)."""

    model_type: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    rope_scaling: Optional[Dict[str, Any]] = None
    max_position_embeddings: int = 2048
    tie_word_embeddings: bool = False
    attention_bias: bool = False  # Llama: q/k/v/o biases
    mlp_bias: bool = False  # Llama only
    initializer_range: float = 0.02
    torch_dtype: str = "float32"
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def qkv_bias(self) -> bool:
        return self.model_type == "qwen2" or self.attention_bias

    @property
    def o_bias(self) -> bool:
        return self.model_type == "llama" and self.attention_bias

    @classmethod
    def from_dict(cls, cfg: Dict[str, Any], where: str = "config.json") -> "ModelConfig":
        """Build from a parsed ``config.json``.

        Raises:
            UserError: an architecture or option this decoder does not implement.
        """
        model_type = cfg.get("model_type")
        if model_type not in SUPPORTED_TYPES:
            raise UserError(f"model_type {model_type!r} is not supported (supported: {', '.join(SUPPORTED_TYPES)})", where)
        if cfg.get("hidden_act", "silu") != "silu":
            raise UserError(f"hidden_act {cfg.get('hidden_act')!r} is not supported (silu only)", where)
        if model_type == "qwen2" and cfg.get("use_sliding_window"):
            raise UserError("Qwen2 sliding-window attention is not supported (use_sliding_window must be false)", where)
        scaling = cfg.get("rope_scaling")
        if scaling is not None:
            kind = scaling.get("rope_type", scaling.get("type"))
            if kind not in ("default", "linear", "llama3"):
                raise UserError(f"rope_scaling type {kind!r} is not supported (default, linear, llama3)", where)
        heads = int(cfg["num_attention_heads"])
        hidden = int(cfg["hidden_size"])
        return cls(
            model_type=model_type,
            vocab_size=int(cfg["vocab_size"]),
            hidden_size=hidden,
            intermediate_size=int(cfg["intermediate_size"]),
            num_hidden_layers=int(cfg["num_hidden_layers"]),
            num_attention_heads=heads,
            num_key_value_heads=int(cfg.get("num_key_value_heads") or heads),
            head_dim=int(cfg.get("head_dim") or hidden // heads),
            rms_norm_eps=float(cfg.get("rms_norm_eps", 1e-6)),
            rope_theta=float(cfg.get("rope_theta", 10000.0)),
            rope_scaling=scaling,
            max_position_embeddings=int(cfg.get("max_position_embeddings", 2048)),
            tie_word_embeddings=bool(cfg.get("tie_word_embeddings", False)),
            attention_bias=bool(cfg.get("attention_bias", False)),
            mlp_bias=bool(cfg.get("mlp_bias", False)),
            initializer_range=float(cfg.get("initializer_range", 0.02)),
            torch_dtype=str(cfg.get("torch_dtype") or "float32"),
            raw=dict(cfg),
        )

    @classmethod
    def from_dir(cls, model_dir: str) -> "ModelConfig":
        """Read ``<model_dir>/config.json``."""
        path = os.path.join(model_dir, "config.json")
        try:
            with open(path, encoding="utf-8") as f:
                return cls.from_dict(json.load(f), path)
        except (KeyError, ValueError, TypeError) as exc:
            raise UserError(f"config.json is missing or has a bad field: {exc}", path) from None


class RMSNorm(nn.Module):
    """Root-mean-square norm, computed in fp32 whatever the input dtype (as HF does)."""

    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.variance_epsilon = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * x.to(dtype)


def rope_inv_freq(config: ModelConfig) -> torch.Tensor:
    """Inverse frequencies with the config's theta and (optional) linear or Llama-3 scaling."""
    dim = config.head_dim
    inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    scaling = config.rope_scaling or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "linear":
        return inv_freq / float(scaling["factor"])
    if kind == "llama3":  # transformers' _compute_llama3_parameters
        factor = float(scaling["factor"])
        low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
        old_len = float(scaling["original_max_position_embeddings"])
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > old_len / low, inv_freq / factor, inv_freq)
        smooth = (old_len / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old_len / high) * ~(wavelen > old_len / low)
        return torch.where(medium, smoothed, scaled)
    return inv_freq


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def segment_positions(segment_ids: torch.Tensor) -> torch.Tensor:
    """Position of each token within its segment: 0 at every segment start."""
    b, s = segment_ids.shape
    index = torch.arange(s, device=segment_ids.device).expand(b, s)
    starts = torch.ones_like(segment_ids, dtype=torch.bool)
    starts[:, 1:] = segment_ids[:, 1:] != segment_ids[:, :-1]
    start_index = torch.where(starts, index, torch.zeros_like(index)).cummax(dim=1).values
    return index - start_index


class LayerKV:
    """Keys and values ``[batch, kv_heads, seq, head_dim]`` of one layer, after rotary embedding."""

    def __init__(self) -> None:
        self.keys: Optional[torch.Tensor] = None
        self.values: Optional[torch.Tensor] = None

    def append(self, k: torch.Tensor, v: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Add this call's keys and values after the cached ones; returns all of them."""
        if self.keys is not None:
            k = torch.cat((self.keys, k), dim=2)
            v = torch.cat((self.values, v), dim=2)
        self.keys, self.values = k, v
        return k, v


class KVCache:
    """Past keys and values of every layer, grown by each decoding call.

    Args:
        layers: the model's decoder layer count.
    """

    def __init__(self, layers: int):
        self.layers: List[LayerKV] = [LayerKV() for _ in range(layers)]
        self.length = 0  # cached positions (padding included)

    def select_rows(self, rows: torch.Tensor) -> None:
        """Keep only these batch rows (finished rows stop costing compute and memory)."""
        for layer in self.layers:
            if layer.keys is not None:
                layer.keys = layer.keys.index_select(0, rows)
                layer.values = layer.values.index_select(0, rows)

    def drop_leading(self, count: int) -> None:
        """Forget the first ``count`` positions (padding no remaining row attends to)."""
        for layer in self.layers:
            if layer.keys is not None:
                layer.keys = layer.keys[:, :, count:]
                layer.values = layer.values[:, :, count:]
        self.length -= count


class Attention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = config.head_dim
        h, d = config.hidden_size, config.head_dim
        self.q_proj = nn.Linear(h, self.heads * d, bias=config.qkv_bias)
        self.k_proj = nn.Linear(h, self.kv_heads * d, bias=config.qkv_bias)
        self.v_proj = nn.Linear(h, self.kv_heads * d, bias=config.qkv_bias)
        self.o_proj = nn.Linear(self.heads * d, h, bias=config.o_bias)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, plan: AttentionPlan,
                kv: Optional[LayerKV] = None) -> torch.Tensor:
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if kv is not None:
            k, v = kv.append(k, v)
        out = attend(q, k, v, plan, window=getattr(self, "window", None), scale=getattr(self, "scale", None),
                     softcap=getattr(self, "softcap", None))
        return self.o_proj(out.transpose(1, 2).reshape(b, s, self.heads * self.head_dim))


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        h, i, bias = config.hidden_size, config.intermediate_size, config.mlp_bias
        self.gate_proj = nn.Linear(h, i, bias=bias)
        self.up_proj = nn.Linear(h, i, bias=bias)
        self.down_proj = nn.Linear(i, h, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.self_attn = Attention(config)
        self.mlp = MLP(config)
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, plan: AttentionPlan,
                kv: Optional[LayerKV] = None) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, plan, kv)
        return x + self.mlp(self.post_attention_layernorm(x))


class Decoder(nn.Module):
    """HF's ``LlamaModel``/``Qwen2Model``: embeddings, layers, final norm (the ``model.`` prefix)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_hidden_layers))
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.register_buffer("inv_freq", rope_inv_freq(config), persistent=False)
        self.gradient_checkpointing = False
        self.attention_backend: Optional[str] = None  # None: attention.choose_backend's (SAILFIN_ATTENTION, or the fastest)

    def forward(self, input_ids: torch.Tensor, segment_ids: Optional[torch.Tensor] = None,
                attention_mask: Optional[torch.Tensor] = None, cache: Optional[KVCache] = None) -> torch.Tensor:
        """Final-norm hidden states of ``input_ids``.

        Args:
            input_ids: ``[b, s]``; with a cache, only the tokens after the cached ones.
            segment_ids: packed rows (training); not combined with the two below.
            attention_mask: ``[b, past + s]``, 1 for tokens and 0 for left padding, over
                the cached positions and these; positions count the 1s.
            cache: past keys and values, extended in place by this call.
        """
        b, s = input_ids.shape
        past = cache.length if cache is not None else 0
        if segment_ids is not None:
            if attention_mask is not None or cache is not None:
                raise ValueError("segment_ids (packed rows) cannot be combined with attention_mask or a KV cache")
            positions = segment_positions(segment_ids)
            plan = plan_attention(input_ids, segment_ids=segment_ids, backend=self.attention_backend)
        elif attention_mask is None and cache is None:
            positions = torch.arange(s, device=input_ids.device).expand(b, s)
            plan = plan_attention(input_ids, backend=self.attention_backend)
        else:
            if attention_mask is None:
                attention_mask = torch.ones(b, past + s, dtype=torch.long, device=input_ids.device)
            if attention_mask.shape != (b, past + s):
                raise ValueError(f"attention_mask has shape {tuple(attention_mask.shape)}, expected {(b, past + s)}")
            positions = (attention_mask.long().cumsum(dim=1) - 1).clamp(min=0)[:, past:]
            # Always a dense mask: SDPA's is_causal aligns top-left, wrong for queries after a cache.
            plan = plan_attention(input_ids, attention_mask=attention_mask, past=past, backend=self.attention_backend)
        # Angles in fp32 with autocast off, as HF does: bf16 angles lose whole radians at long positions.
        with torch.autocast(device_type=input_ids.device.type, enabled=False):
            freqs = positions[..., None].float() * self.inv_freq.float()
            emb = torch.cat((freqs, freqs), dim=-1)
            cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        x = self.embed_tokens(input_ids)
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        plan.prepare(getattr(layer.self_attn, "window", None) for layer in self.layers)
        for i, layer in enumerate(self.layers):
            if self.gradient_checkpointing and self.training:
                x = _compat.checkpoint_call(layer, x, cos, sin, plan)
            else:
                x = layer(x, cos, sin, plan, cache.layers[i] if cache is not None else None)
        if cache is not None:
            cache.length += s
        return self.norm(x)


class CausalLM(nn.Module):
    """HF's ``LlamaForCausalLM``/``Qwen2ForCausalLM``.

    Args:
        config: the model configuration.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.model = Decoder(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids: torch.Tensor, segment_ids: Optional[torch.Tensor] = None,
                attention_mask: Optional[torch.Tensor] = None, cache: Optional[KVCache] = None,
                selected: Optional[torch.Tensor] = None, targets: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Logits ``[batch, seq, vocab]`` (``Decoder.forward`` for the arguments).

        ``selected`` (``[batch, seq - 1]`` bool): only the logits of the positions that
        predict the selected next tokens, ``[n_selected, vocab]``; with ``targets``
        (``[n_selected]``, those next tokens) their fp32 log-probs ``[n_selected]``, computed
        in chunks (losses.linear_target_logps), so the loss never builds the logits tensor.
        These are arguments of ``forward`` rather than a second method because FSDP2
        gathers a sharded model's weights in ``forward``'s hooks only.
        """
        hidden = self.model(input_ids, segment_ids, attention_mask, cache)
        if selected is not None:
            hidden = hidden[:, :-1][selected]
            if targets is not None:
                return linear_target_logps(hidden, self.lm_head, targets,
                                           softcap=getattr(self.config, "final_logit_softcapping", None))
        return self.lm_head(hidden)

    def next_token_logits(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                          cache: Optional[KVCache] = None) -> torch.Tensor:
        """fp32 logits ``[batch, vocab]`` of the last position only: generation never builds ``[b, s, vocab]``."""
        hidden = self.model(input_ids, attention_mask=attention_mask, cache=cache)[:, -1]
        return self.lm_head(hidden).float()

    def new_cache(self) -> KVCache:
        return KVCache(self.config.num_hidden_layers)

    def init_weights(self, seed: int) -> "CausalLM":
        """HF's random init (normal(0, initializer_range), zero biases, unit norms), seeded."""
        gen = torch.Generator().manual_seed(seed)
        std = self.config.initializer_range
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * std)
                    if getattr(module, "bias", None) is not None:
                        module.bias.zero_()
                elif isinstance(module, RMSNorm):
                    module.weight.fill_(1.0)
        return self

    def hf_state_dict(self) -> Dict[str, torch.Tensor]:
        """Weights under HF names; a tied ``lm_head.weight`` is dropped, as HF does on save."""
        return self.hf_names(self.state_dict())

    def hf_names(self, state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """``state`` (this model's ``state_dict``, or FSDP's gathered one) without LoRA tensors or a tied ``lm_head``."""
        state = {k: v for k, v in state.items() if "lora_" not in k}
        if self.config.tie_word_embeddings:
            state.pop("lm_head.weight", None)
        return state

    def load_hf_state_dict(self, weights: Dict[str, torch.Tensor], where: str) -> None:
        """Copy HF-named weights in (any dtype; converted to the parameters' dtype).

        Raises:
            UserError: a weight is missing or has the wrong shape.
        """
        own = {k: v for k, v in self.state_dict().items() if "lora_" not in k}
        if self.config.tie_word_embeddings:
            own.pop("lm_head.weight", None)
        quantized = [k for k in weights if k.endswith(".qweight") and k not in own]
        if quantized:
            raise UserError(f"holds weight-only quantized layers (e.g. {quantized[0]}): a quantized model serves "
                            "inference only (models.loading.load_model); train or export from its source model", where)
        missing = [k for k in own if k not in weights]
        if missing:
            raise UserError(f"weights miss {len(missing)} tensor(s), e.g. {missing[:3]}: not a {self.config.model_type} checkpoint of this shape", where)
        with torch.no_grad():
            for name, target in own.items():
                source = weights[name]
                if tuple(source.shape) != tuple(target.shape):
                    raise UserError(f"weight {name} has shape {tuple(source.shape)}, config.json implies {tuple(target.shape)}", where)
                target.copy_(source.to(target.dtype))


def count_parameters(model: nn.Module) -> Dict[str, int]:
    """Total and trainable parameter counts (a tied embedding counts once)."""
    params = list(model.parameters())  # deduplicated by nn.Module
    return {"parameters": sum(p.numel() for p in params), "trainable": sum(p.numel() for p in params if p.requires_grad)}
