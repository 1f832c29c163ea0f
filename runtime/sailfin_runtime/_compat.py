"""Every torch-version and hardware difference, in one place.

The runtime must run on Debian's ``python3-torch`` 1.13 (CPU only: no
``scaled_dot_product_attention``, no ``torch.compile``, no fused AdamW) and on
torch 2.x with CUDA. Recipes and models never test ``torch.__version__`` or
``hasattr(torch, ...)`` themselves; they call the functions here.

``torch`` is imported inside the functions, not at module level, because
``configure_blas_env`` must run before the first ``import torch``: OpenBLAS reads
``OPENBLAS_NUM_THREADS`` once, when the library is loaded.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from typing import Any, Iterable, Optional

# Measured on a 2-core AVX-512 machine (shared/design/measured-facts.md §1, §3):
# fp32 GEMM runs through OpenBLAS (pthreads, ignores torch.set_num_threads); bf16
# runs through oneDNN on torch's OpenMP threads. Letting both pools run at full
# width made a tiny fp32 run 3x slower (5.9k vs 17.5k tok/s), so exactly one of
# them gets the cores: OpenBLAS for fp32, OpenMP for bf16.


def cpu_count() -> int:
    """CPUs this process may run on (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 dot-product instructions (oneDNN then runs bf16 ~2.5x faster than fp32)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def _wants_bf16_on_cpu(precision: str) -> bool:
    return precision == "bf16" or (precision == "auto" and cpu_has_native_bf16())


def configure_blas_env(precision: str) -> None:
    """Choose OpenBLAS's thread count. Must be called before ``import torch``.

    Does nothing when the caller already set ``OPENBLAS_NUM_THREADS``.

    Args:
        precision: the spec's ``precision`` (``auto``, ``fp32`` or ``bf16``).
    """
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1" if _wants_bf16_on_cpu(precision) else str(cpu_count())


def configure_torch_threads(precision: str, device: Any) -> int:
    """Set torch's intra-op (OpenMP) threads to the complement of OpenBLAS's.

    Respects ``OMP_NUM_THREADS`` when the caller set it.

    Args:
        precision: the resolved precision (``fp32`` or ``bf16``).
        device: the ``torch.device`` training runs on.

    Returns:
        The number of torch threads in use.
    """
    import torch

    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        # PyPI wheels link MKL, whose GEMMs run on torch's own OpenMP threads: there
        # is no second pool to leave room for, so fp32 gets every core as well.
        mkl = "BLAS_INFO=mkl" in torch.__config__.show()
        torch.set_num_threads(cpu_count() if precision == "bf16" or mkl else 1)
    return torch.get_num_threads()


def resolve_device(name: str) -> Any:
    """``auto`` -> CUDA when available, else CPU; ``cpu``; ``cuda``; ``cuda:N``.

    Raises:
        ValueError: the device is unknown or not available.
    """
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but CUDA is not available (torch {torch.__version__})")
        return torch.device(name)
    raise ValueError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N")


def resolve_precision(requested: str, device: Any) -> str:
    """``auto`` -> ``bf16`` where bf16 autocast is supported and fast, else ``fp32``.

    On CPU, bf16 counts as supported only with native bf16 instructions: without
    them oneDNN emulates bf16 and it is slower than fp32.

    Raises:
        ValueError: the precision is unknown or bf16 is unavailable on this device.
    """
    import torch

    if requested not in ("auto", "fp32", "bf16"):
        raise ValueError(f"unknown precision {requested!r}: use auto, fp32 or bf16")
    if device.type == "cuda":
        bf16_ok = torch.cuda.is_bf16_supported()
    else:
        bf16_ok = hasattr(torch, "autocast")  # CPU autocast exists since 1.10
    if requested == "bf16" and not bf16_ok:
        raise ValueError(f"precision bf16 is not supported on {device}")
    if requested == "auto":
        native = cpu_has_native_bf16() if device.type == "cpu" else True
        return "bf16" if bf16_ok and native else "fp32"
    return requested


def autocast(device: Any, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on CPU or CUDA, or a no-op for fp32."""
    import torch

    if precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def autocast_dtype(device_type: str) -> Optional[Any]:
    """The dtype autocast computes in on this device type, or None when autocast is off there."""
    import torch

    if hasattr(torch, "get_autocast_dtype"):  # 2.4+: one API for every device type
        return torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else None
    if device_type == "cuda":
        return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else None
    return torch.get_autocast_cpu_dtype() if torch.is_autocast_cpu_enabled() else None


def has_sdpa() -> bool:
    """Whether ``F.scaled_dot_product_attention`` exists (torch >= 2.0)."""
    import torch.nn.functional as F

    return hasattr(F, "scaled_dot_product_attention")


def has_flex() -> bool:
    """Whether this torch has FlexAttention with block masks (torch >= 2.5)."""
    try:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention  # noqa: F401
    except ImportError:
        return False
    return True


def has_flash_attn() -> bool:
    """Whether the ``flash-attn`` package (2.x, with ``flash_attn_varlen_func``) is importable."""
    try:
        from flash_attn import flash_attn_varlen_func  # noqa: F401
    except ImportError:
        return False
    return True


def attention(q: Any, k: Any, v: Any, mask: Optional[Any], scale: Optional[float] = None,
              softcap: Optional[float] = None) -> Any:
    """Scaled dot-product attention over ``[batch, heads, seq, head_dim]`` tensors.

    Args:
        q, k, v: queries, keys and values; k and v already repeated to q's head count.
        mask: ``[batch, 1, queries, keys]`` bool, True where a query may attend to a key
            (keys may outnumber queries: decoding after a KV cache), or None for plain
            causal attention over equal query and key counts. Every query row must allow at least
            one key (the diagonal), so no row is fully masked.
        scale: the factor on q·k (None: ``head_dim ** -0.5``).
        softcap: if set, scores become ``softcap * tanh(scores / softcap)`` before the mask
            (Gemma 2's logit soft-capping); SDPA has no such option, so the explicit path runs.

    Returns:
        ``[batch, heads, seq, head_dim]`` in v's dtype.
    """
    import torch
    import torch.nn.functional as F

    default_scale = scale is None or scale == q.shape[-1] ** -0.5
    # SDPA takes scale= from torch 2.1; an older torch 2.0 runs the explicit path for other scales.
    if has_sdpa() and softcap is None and (default_scale or _sdpa_takes_scale()):
        extra = {} if default_scale else {"scale": scale}
        if mask is None:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, **extra)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **extra)
    # torch 1.13: explicit attention, softmax in fp32 as Hugging Face's eager path does.
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = torch.matmul(q, k.transpose(-1, -2)).float() * scale
    if softcap is not None:
        scores = softcap * torch.tanh(scores / softcap)
    if mask is None:
        seq = q.shape[-2]
        mask = torch.ones(seq, seq, dtype=torch.bool, device=q.device).tril()
    scores = scores.masked_fill(~mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1).to(v.dtype)
    return torch.matmul(probs, v)


def _sdpa_takes_scale() -> bool:
    """SDPA's ``scale=`` argument came in torch 2.1 (the function is a builtin without a signature)."""
    import torch

    major, minor = (int(p) for p in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 1)


def checkpoint_call(fn: Any, *args: Any) -> Any:
    """Activation checkpointing of ``fn(*args)`` (non-reentrant; keeps the RNG state for dropout)."""
    # torch 1.13 does not load torch.utils.checkpoint with torch.utils: without this
    # import the attribute lookup fails with "module 'torch.utils' has no attribute 'checkpoint'".
    import torch.utils.checkpoint

    return torch.utils.checkpoint.checkpoint(fn, *args, use_reentrant=False)


def make_adamw(groups: Iterable[dict], lr: float, device: Any, betas=(0.9, 0.999), eps: float = 1e-8) -> Any:
    """AdamW (decoupled weight decay), fused on CUDA where this torch has it (2.0+)."""
    import torch

    kwargs: dict = {"fused": True} if adamw_is_fused(device) else {}
    return torch.optim.AdamW(list(groups), lr=lr, betas=betas, eps=eps, **kwargs)


def adamw_is_fused(device: Any) -> bool:
    """Whether ``make_adamw`` gives the fused (one kernel per step) AdamW: CUDA with torch 2.0+."""
    import torch

    return device.type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters


def maybe_compile_layers(layers: Iterable[Any], device: Any, total_steps: int) -> bool:
    """Compile each decoder layer in place with ``torch.compile`` where it pays.

    Compiling takes tens of seconds, so it is used on CUDA for runs of at least
    200 steps, never on torch 1.13 (no ``torch.compile``) and never on CPU unless
    ``SAILFIN_COMPILE=1``. ``SAILFIN_COMPILE=0`` turns it off everywhere. Layers are
    compiled in place (``nn.Module.compile``, torch >= 2.2) so parameter names do
    not get the ``_orig_mod.`` prefix and checkpoints keep Hugging Face names.

    Returns:
        Whether the layers were compiled.
    """
    import torch

    flag = os.environ.get("SAILFIN_COMPILE")
    if flag == "0" or not hasattr(torch, "compile"):
        return False
    wanted = flag == "1" or (device.type == "cuda" and total_steps >= 200)
    layers = list(layers)
    if not wanted or not layers or not hasattr(layers[0], "compile"):
        return False
    for layer in layers:
        layer.compile()
    return True


def torch_load(path: str) -> Any:
    """``torch.load`` to CPU, restricted to tensors and plain containers on torch 2.x.

    torch 1.13 has ``weights_only`` but its unpickler lacks the BINFLOAT opcode, so it
    fails on any optimizer state ("Unsupported operand 71"); there the files, which this
    runtime wrote into the run's own output folder, are loaded with the full unpickler.
    """
    import torch

    kwargs: dict = {"map_location": "cpu"}
    if int(torch.__version__.split(".")[0]) >= 2:
        kwargs["weights_only"] = True
    return torch.load(path, **kwargs)


def rng_state(device: Any) -> dict:
    """The torch RNG states (CPU, and CUDA when training there) as raw bytes."""
    import torch

    state = {"cpu": torch.get_rng_state().numpy().tobytes()}
    if device.type == "cuda":
        state["cuda"] = [s.numpy().tobytes() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict, device: Any) -> None:
    """Restore what ``rng_state`` returned."""
    import numpy as np
    import torch

    torch.set_rng_state(torch.from_numpy(np.frombuffer(state["cpu"], dtype=np.uint8).copy()))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state_all(
            [torch.from_numpy(np.frombuffer(s, dtype=np.uint8).copy()) for s in state["cuda"]]
        )


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception is a CUDA/CPU out-of-memory error (``torch.cuda.OutOfMemoryError`` is 2.x only)."""
    import torch

    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc))


@contextlib.contextmanager
def skip_init():
    """Build modules without running their random init (weights are loaded right after).

    ``nn.Linear`` runs kaiming init on construction: seconds of wasted CPU for a 0.5B
    model. ``torch.nn.init`` functions become no-ops inside, as in transformers'
    ``no_init_weights``; tensors keep whatever ``torch.empty`` gave them.
    """
    import torch.nn.init as init

    names = ("kaiming_uniform_", "uniform_", "normal_", "xavier_uniform_", "zeros_", "ones_")
    saved = {name: getattr(init, name) for name in names}
    try:
        for name in names:
            setattr(init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, fn in saved.items():
            setattr(init, name, fn)


def has_fsdp2() -> bool:
    """Whether this torch has FSDP2 as the runtime uses it (sailfin_runtime/fsdp.py).

    That is the public ``torch.distributed.fsdp.fully_shard`` (torch 2.6+) whose modules can
    sum gradients over ranks with a plain SUM (``set_gradient_divide_factor`` and
    ``set_force_sum_reduction_for_comms``; gloo refuses FSDP2's default PREMUL_SUM).
    Tested with 2.9.1; Debian's 1.13 has none of it (the hand-written data-parallel path).
    """
    import torch
    import torch.distributed as dist

    # Importing torch.distributed.fsdp on 1.13 with Python 3.11 raises ValueError (a dataclass default), not ImportError.
    if int(torch.__version__.split(".")[0]) < 2 or not dist.is_available():
        return False
    try:
        from torch.distributed.fsdp import FSDPModule, fully_shard  # noqa: F401
    except ImportError:
        return False
    return all(hasattr(FSDPModule, name) for name in ("set_gradient_divide_factor", "set_force_sum_reduction_for_comms"))
