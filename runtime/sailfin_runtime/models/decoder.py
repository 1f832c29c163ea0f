"""One decoder for Llama, Qwen2/2.5, Qwen3, Mistral, ERNIE 4.5, Gemma 2 and Gemma 3, with Hugging Face parameter names.

These families are the same network: RMSNorm (computed in fp32), rotary position
embeddings, grouped-query attention, a SwiGLU MLP, tied or untied embeddings. They
differ in a few options, each read from ``config.json`` as ``transformers`` does:

- biases: Qwen2 has q/k/v biases (never o_proj); Llama and Qwen3 have
  ``attention_bias`` (q/k/v/o), Llama also ``mlp_bias``; ERNIE 4.5 has ``use_bias``
  (every projection); Mistral has none;
- Qwen3 normalizes each head's queries and keys (``q_norm``/``k_norm``, RMSNorm over
  ``head_dim``) before the rotary embedding;
- ERNIE 4.5 rotates interleaved pairs (dims 2i, 2i+1) where the others rotate halves;
- Mistral limits each query to the last ``sliding_window`` keys (itself included);
- Gemma 2 and Gemma 3 (text) add more: RMSNorm scaled by ``1 + weight``, embeddings
  scaled by sqrt(hidden), a GeLU (tanh) MLP, norms after attention and around the MLP,
  ``query_pre_attn_scalar`` as the attention scale, sliding-window and global layers
  (``layer_types``), Gemma 2's soft-capped attention scores and logits, Gemma 3's
  q/k norms and a separate rotary base for its sliding layers.

Module names follow ``transformers`` exactly, so ``state_dict()`` keys are HF keys
and HF safetensors load directly.

Packed rows: ``segment_ids`` (1, 2, ... per sample, 0 for padding) make attention
block-diagonal and causal (``attention.py`` plans it once per forward and picks the kernel), and positions restart at 0 in every segment, so a row
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

SUPPORTED_TYPES = ("llama", "qwen2", "qwen3", "mistral", "ernie4_5", "gemma2", "gemma3_text")
GEMMA_TYPES = ("gemma2", "gemma3_text")

# Families people ask for that this decoder does not implement, and why (the UserError says it).
REFUSED_TYPES = {
    "ernie4_5_moe": "ERNIE 4.5 mixture-of-experts models are not supported (the dense ernie4_5 models are)",
    "qwen3_moe": "Qwen3 mixture-of-experts models are not supported (the dense qwen3 models are)",
    "qwen2_moe": "Qwen2 mixture-of-experts models are not supported (the dense qwen2 models are)",
    "mixtral": "Mixtral (mixture of experts) is not supported (the dense mistral models are)",
    "gemma3": "Gemma 3 image-text checkpoints are not supported (the text-only gemma3_text ones, e.g. Gemma 3 1B, are)",
}

# transformers' defaults for fields a config.json may leave out, where they differ from Llama's.
_DEFAULTS: Dict[str, Dict[str, Any]] = {
    "qwen3": {"head_dim": 128},
    "ernie4_5": {"head_dim": 128, "tie_word_embeddings": True, "rms_norm_eps": 1e-5, "rope_theta": 500000.0},
    "gemma2": {"head_dim": 256, "tie_word_embeddings": True, "query_pre_attn_scalar": 256, "sliding_window": 4096,
               "final_logit_softcapping": 30.0, "attn_logit_softcapping": 50.0, "sliding_window_pattern": 2},
    "gemma3_text": {"head_dim": 256, "tie_word_embeddings": True, "rope_theta": 1000000.0, "query_pre_attn_scalar": 256,
                    "sliding_window": 4096, "sliding_window_pattern": 6, "rope_local_base_freq": 10000.0},
}


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
    attention_bias: bool = False  # Llama, Qwen3: q/k/v/o biases
    mlp_bias: bool = False  # Llama only
    use_bias: bool = False  # ERNIE 4.5: biases on every projection
    sliding_window: Optional[int] = None  # Mistral, Gemma's sliding layers: each query sees the last N keys
    layer_types: Optional[List[str]] = None  # Gemma: sliding_attention or full_attention per layer
    query_pre_attn_scalar: Optional[float] = None  # Gemma: attention scale is its -1/2 power
    attn_logit_softcapping: Optional[float] = None  # Gemma 2
    final_logit_softcapping: Optional[float] = None  # Gemma 2
    rope_local_theta: Optional[float] = None  # Gemma 3: rotary base of the sliding layers
    initializer_range: float = 0.02
    torch_dtype: str = "float32"
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def qkv_bias(self) -> bool:
        if self.model_type == "ernie4_5":
            return self.use_bias
        return self.model_type == "qwen2" or (self.model_type != "mistral" and self.attention_bias)

    @property
    def o_bias(self) -> bool:
        if self.model_type == "ernie4_5":
            return self.use_bias
        return self.model_type in ("llama", "qwen3") and self.attention_bias

    @property
    def ffn_bias(self) -> bool:
        return self.use_bias if self.model_type == "ernie4_5" else self.model_type == "llama" and self.mlp_bias

    @property
    def gemma(self) -> bool:
        return self.model_type in GEMMA_TYPES

    def layer_window(self, layer: int) -> Optional[int]:
        """The sliding window of a layer (None: it sees every earlier key)."""
        if self.layer_types is not None:
            return self.sliding_window if self.layer_types[layer] == "sliding_attention" else None
        return self.sliding_window

    @property
    def qk_norm(self) -> bool:
        """Qwen3, Gemma 3: per-head RMSNorm of queries and keys before the rotary embedding."""
        return self.model_type in ("qwen3", "gemma3_text")

    @property
    def rope_interleaved(self) -> bool:
        """ERNIE 4.5 rotates pairs (2i, 2i+1); the others rotate halves (i, i + d/2)."""
        return self.model_type == "ernie4_5"

    @classmethod
    def from_dict(cls, cfg: Dict[str, Any], where: str = "config.json") -> "ModelConfig":
        """Build from a parsed ``config.json``.

        Raises:
            UserError: an architecture or option this decoder does not implement.
        """
        model_type = cfg.get("model_type")
        if model_type in REFUSED_TYPES:
            raise UserError(f"model_type {model_type!r}: {REFUSED_TYPES[model_type]} "
                            f"(supported: {', '.join(SUPPORTED_TYPES)})", where)
        if model_type not in SUPPORTED_TYPES:
            raise UserError(f"model_type {model_type!r} is not supported (supported: {', '.join(SUPPORTED_TYPES)})", where)
        defaults = {"head_dim": None, "tie_word_embeddings": False, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
                    **_DEFAULTS.get(model_type, {})}
        gemma = model_type in GEMMA_TYPES
        # Gemma configs name it hidden_activation (older ones also carry a hidden_act, which transformers ignores).
        wanted = "gelu_pytorch_tanh" if gemma else "silu"
        act = (cfg.get("hidden_activation") if gemma else None) or cfg.get("hidden_act") or wanted
        if act != wanted:
            raise UserError(f"hidden_act {act!r} is not supported for {model_type} ({wanted} only)", where)
        if cfg.get("use_bidirectional_attention"):
            raise UserError("use_bidirectional_attention is not supported (causal decoders only)", where)
        if model_type in ("qwen2", "qwen3") and cfg.get("use_sliding_window"):
            raise UserError(f"{model_type} sliding-window attention is not supported (use_sliding_window must be false)", where)
        layers = int(cfg["num_hidden_layers"])
        layer_types = cfg.get("layer_types")
        if gemma:
            if layer_types is None:  # configs before transformers 4.53 give a pattern: every Nth layer is global
                pattern = int(cfg.get("sliding_window_pattern") or defaults["sliding_window_pattern"])
                layer_types = ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(layers)]
            if len(layer_types) != layers or any(t not in ("sliding_attention", "full_attention") for t in layer_types):
                raise UserError(f"layer_types must give sliding_attention or full_attention for each of the {layers} layers", where)
        elif layer_types is not None and any(t != "full_attention" for t in layer_types) and model_type != "mistral":
            raise UserError("layer_types other than full_attention are not supported for "
                            f"{model_type} (per-layer sliding windows)", where)
        else:
            layer_types = None
        window = cfg.get("sliding_window", defaults.get("sliding_window")) if model_type == "mistral" or gemma else None
        if window is not None and (not isinstance(window, int) or isinstance(window, bool) or window < 1):
            raise UserError(f"sliding_window must be a positive integer or null, got {window!r}", where)
        # transformers >= 5 writes rope_parameters {rope_theta, rope_type, ...}; older ones
        # (and the Hub's config files) rope_theta and rope_scaling.
        params = cfg.get("rope_parameters")
        scaling = cfg.get("rope_scaling")
        theta = cfg.get("rope_theta")
        local_theta = cfg.get("rope_local_base_freq", defaults.get("rope_local_base_freq"))
        if isinstance(params, dict) and "full_attention" in params:  # Gemma 3, transformers >= 5: per layer type
            local = params.get("sliding_attention") or {}
            if local.get("rope_type", "default") != "default":
                raise UserError("rope scaling on the sliding-window layers is not supported", where)
            local_theta = local.get("rope_theta", local_theta)
            params = params["full_attention"] or {}
        if isinstance(params, dict):
            theta = params.get("rope_theta", theta)
            if params.get("rope_type", params.get("type", "default")) != "default":
                scaling = {k: v for k, v in params.items() if k != "rope_theta"}
        if scaling is not None:
            kind = scaling.get("rope_type", scaling.get("type"))
            if kind not in ("default", "linear", "llama3"):
                raise UserError(f"rope_scaling type {kind!r} is not supported (default, linear, llama3)", where)
        heads = int(cfg["num_attention_heads"])
        hidden = int(cfg["hidden_size"])
        tie = cfg.get("tie_word_embeddings")

        def gemma_field(name: str) -> Optional[float]:
            value = cfg.get(name, defaults.get(name)) if gemma else None
            return None if value is None else float(value)
        return cls(
            model_type=model_type,
            vocab_size=int(cfg["vocab_size"]),
            hidden_size=hidden,
            intermediate_size=int(cfg["intermediate_size"]),
            num_hidden_layers=int(cfg["num_hidden_layers"]),
            num_attention_heads=heads,
            num_key_value_heads=int(cfg.get("num_key_value_heads") or heads),
            head_dim=int(cfg.get("head_dim") or defaults["head_dim"] or hidden // heads),
            rms_norm_eps=float(cfg.get("rms_norm_eps", defaults["rms_norm_eps"])),
            rope_theta=float(theta if theta is not None else defaults["rope_theta"]),
            rope_scaling=scaling,
            max_position_embeddings=int(cfg.get("max_position_embeddings", 2048)),
            tie_word_embeddings=bool(defaults["tie_word_embeddings"] if tie is None else tie),
            attention_bias=bool(cfg.get("attention_bias", False)),
            mlp_bias=bool(cfg.get("mlp_bias", False)),
            use_bias=bool(cfg.get("use_bias", False)),
            sliding_window=window,
            layer_types=layer_types,
            query_pre_attn_scalar=gemma_field("query_pre_attn_scalar"),
            attn_logit_softcapping=gemma_field("attn_logit_softcapping"),
            final_logit_softcapping=gemma_field("final_logit_softcapping"),
            rope_local_theta=float(local_theta) if model_type == "gemma3_text" else None,
            initializer_range=float(cfg.get("initializer_range", 0.02)),
            torch_dtype=str(cfg.get("torch_dtype") or cfg.get("dtype") or "float32"),  # transformers 5 writes dtype
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


class GemmaRMSNorm(nn.Module):
    """Gemma's RMSNorm: scaled by ``1 + weight`` (weights start at 0), multiplied in fp32 before the cast back."""

    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.float()
        y = y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * (1.0 + self.weight.float())).type_as(x)


def make_norm(config: ModelConfig, size: int) -> nn.Module:
    return GemmaRMSNorm(size, config.rms_norm_eps) if config.gemma else RMSNorm(size, config.rms_norm_eps)


def rope_inv_freq(config: ModelConfig, local: bool = False) -> torch.Tensor:
    """Inverse frequencies with the config's theta and (optional) linear or Llama-3 scaling.

    ``local``: Gemma 3's sliding layers, with their own base and no scaling.
    """
    dim = config.head_dim
    theta = config.rope_local_theta if local else config.rope_theta
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    scaling = {} if local else config.rope_scaling or {}
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


def rotate_pairs(x: torch.Tensor) -> torch.Tensor:
    """ERNIE 4.5's rotation: each pair (x[2i], x[2i+1]) becomes (-x[2i+1], x[2i])."""
    return torch.stack((-x[..., 1::2], x[..., 0::2]), dim=-1).flatten(-2)


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

    def pad_leading(self, count: int) -> None:
        """Put ``count`` positions of zeros before the cached ones: a longer row joins (serving),
        and the caller's attention mask marks them padding, as left padding is."""
        for layer in self.layers:
            if layer.keys is not None:
                b, h, _, d = layer.keys.shape
                layer.keys = torch.cat((layer.keys.new_zeros(b, h, count, d), layer.keys), dim=2)
                layer.values = torch.cat((layer.values.new_zeros(b, h, count, d), layer.values), dim=2)
        self.length += count

    def append_rows(self, other: "KVCache") -> None:
        """Add ``other``'s rows after these (both of one length: ``pad_leading`` the shorter first)."""
        if other.length != self.length:
            raise ValueError(f"caches of {self.length} and {other.length} positions cannot be joined")
        for mine, theirs in zip(self.layers, other.layers):
            if theirs.keys is not None:
                mine.keys = theirs.keys if mine.keys is None else torch.cat((mine.keys, theirs.keys), dim=0)
                mine.values = theirs.values if mine.values is None else torch.cat((mine.values, theirs.values), dim=0)


class Attention(nn.Module):
    """Grouped-query attention. ``window``, ``scale`` and ``softcap`` are this layer's
    attention options, read by ``Decoder.forward`` (which mask) and by the kernel."""

    def __init__(self, config: ModelConfig, layer: int):
        super().__init__()
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = config.head_dim
        self.window: Optional[int] = config.layer_window(layer)
        self.scale: float = (config.query_pre_attn_scalar or config.head_dim) ** -0.5
        self.softcap: Optional[float] = config.attn_logit_softcapping
        # Gemma 3's sliding layers rotate with their own base (Decoder.forward picks the angles).
        self.local_rope = config.rope_local_theta is not None and self.window is not None
        self.rotate = rotate_pairs if config.rope_interleaved else rotate_half
        h, d = config.hidden_size, config.head_dim
        self.q_proj = nn.Linear(h, self.heads * d, bias=config.qkv_bias)
        self.k_proj = nn.Linear(h, self.kv_heads * d, bias=config.qkv_bias)
        self.v_proj = nn.Linear(h, self.kv_heads * d, bias=config.qkv_bias)
        self.o_proj = nn.Linear(self.heads * d, h, bias=config.o_bias)
        if config.qk_norm:
            self.q_norm = make_norm(config, d)
            self.k_norm = make_norm(config, d)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, plan: AttentionPlan,
                kv: Optional[LayerKV] = None) -> torch.Tensor:
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.heads, self.head_dim)
        k = self.k_proj(x).view(b, s, self.kv_heads, self.head_dim)
        if hasattr(self, "q_norm"):
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + self.rotate(q) * sin
        k = k * cos + self.rotate(k) * sin
        if kv is not None:
            k, v = kv.append(k, v)
        out = attend(q, k, v, plan, window=self.window, scale=self.scale, softcap=self.softcap)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, self.heads * self.head_dim))


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        h, i, bias = config.hidden_size, config.intermediate_size, config.ffn_bias
        self.gate_proj = nn.Linear(h, i, bias=bias)
        self.up_proj = nn.Linear(h, i, bias=bias)
        self.down_proj = nn.Linear(i, h, bias=bias)
        self.gelu = config.gemma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.gate_proj(x)
        gate = F.gelu(gate, approximate="tanh") if self.gelu else F.silu(gate)
        return self.down_proj(gate * self.up_proj(x))


class DecoderLayer(nn.Module):
    """Pre-norm attention and MLP; Gemma also norms each sub-block's output (``sandwich``).

    The names are HF's: in Gemma ``post_attention_layernorm`` norms the attention output
    and ``pre_feedforward_layernorm`` the MLP input, which Llama's
    ``post_attention_layernorm`` does.
    """

    def __init__(self, config: ModelConfig, layer: int):
        super().__init__()
        self.self_attn = Attention(config, layer)
        self.mlp = MLP(config)
        self.input_layernorm = make_norm(config, config.hidden_size)
        self.post_attention_layernorm = make_norm(config, config.hidden_size)
        self.sandwich = config.gemma
        if self.sandwich:
            self.pre_feedforward_layernorm = make_norm(config, config.hidden_size)
            self.post_feedforward_layernorm = make_norm(config, config.hidden_size)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, plan: AttentionPlan,
                kv: Optional[LayerKV] = None) -> torch.Tensor:
        if self.sandwich:
            x = x + self.post_attention_layernorm(self.self_attn(self.input_layernorm(x), cos, sin, plan, kv))
            return x + self.post_feedforward_layernorm(self.mlp(self.pre_feedforward_layernorm(x)))
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, plan, kv)
        return x + self.mlp(self.post_attention_layernorm(x))


class Decoder(nn.Module):
    """HF's ``LlamaModel``/``Qwen2Model``: embeddings, layers, final norm (the ``model.`` prefix)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(config, i) for i in range(config.num_hidden_layers))
        self.norm = make_norm(config, config.hidden_size)
        self.register_buffer("inv_freq", rope_inv_freq(config), persistent=False)
        if config.rope_local_theta is not None:
            self.register_buffer("inv_freq_local", rope_inv_freq(config, local=True), persistent=False)
        self.rope_interleaved = config.rope_interleaved
        self.embed_scale = config.hidden_size ** 0.5 if config.gemma else None
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
        x = self.embed_tokens(input_ids)
        if self.embed_scale is not None:  # Gemma: rounded to the activations' dtype first, as HF does
            x = x * torch.tensor(self.embed_scale, dtype=x.dtype)
        angles = {False: self.rotary(positions, self.inv_freq, x.dtype)}
        if hasattr(self, "inv_freq_local"):
            angles[True] = self.rotary(positions, self.inv_freq_local, x.dtype)
        # Block masks / cu_seqlens of every window, built once here, outside compiled layers and checkpoints.
        plan.prepare(layer.self_attn.window for layer in self.layers)
        for i, layer in enumerate(self.layers):
            cos, sin = angles[layer.self_attn.local_rope]
            if self.gradient_checkpointing and self.training:
                x = _compat.checkpoint_call(layer, x, cos, sin, plan)
            else:
                x = layer(x, cos, sin, plan, cache.layers[i] if cache is not None else None)
        if cache is not None:
            cache.length += s
        return self.norm(x)

    def rotary(self, positions: torch.Tensor, inv_freq: torch.Tensor, dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
        """cos and sin ``[b, 1, s, head_dim]`` of the positions, in ``dtype``."""
        # Angles in fp32 with autocast off, as HF does: bf16 angles lose whole radians at long positions.
        with torch.autocast(device_type=positions.device.type, enabled=False):
            freqs = positions[..., None].float() * inv_freq.float()
            # Interleaved rotary pairs dims (2i, 2i+1) with frequency i; rotate_half pairs (i, i + d/2).
            emb = freqs.repeat_interleave(2, dim=-1) if self.rope_interleaved else torch.cat((freqs, freqs), dim=-1)
            return emb.cos()[:, None].to(dtype), emb.sin()[:, None].to(dtype)


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
            if targets is not None:  # chunked: applies the final soft-cap itself
                return linear_target_logps(hidden, self.lm_head, targets, softcap=self.config.final_logit_softcapping)
        return self.cap_logits(self.lm_head(hidden))

    def cap_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """Gemma 2's final soft-capping, ``cap * tanh(logits / cap)``; the identity elsewhere."""
        cap = self.config.final_logit_softcapping
        return logits if cap is None else cap * torch.tanh(logits / cap)

    def next_token_logits(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                          cache: Optional[KVCache] = None) -> torch.Tensor:
        """fp32 logits ``[batch, vocab]`` of the last position only: generation never builds ``[b, s, vocab]``."""
        hidden = self.model(input_ids, attention_mask=attention_mask, cache=cache)[:, -1]
        return self.cap_logits(self.lm_head(hidden)).float()

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
                elif isinstance(module, GemmaRMSNorm):
                    module.weight.zero_()  # scales by 1 + weight
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
