"""Make the parity fixtures from Hugging Face transformers and PEFT themselves.

Not run by CI: CI has no transformers. Run it by hand when the fixtures must change,
then commit ``fixtures/``. The output is byte-for-byte reproducible except the order
of ``target_modules`` in PEFT's adapter_config.json (PEFT saves it from a set). It
needs a throwaway virtualenv that reuses Debian's torch 1.13 (what made the committed
fixtures)::

    /usr/bin/python3 -m venv --system-site-packages /tmp/parity-venv
    /tmp/parity-venv/bin/pip install "transformers<4.47" safetensors "accelerate<1.1"
    # PEFT 0.13 declares torch>=1.13.0, which Debian's "1.13.0a0" does not satisfy under
    # PEP 440, so pip would pull a 2 GB CUDA torch: install PEFT without dependencies
    # (its other dependencies came with transformers and accelerate).
    /tmp/parity-venv/bin/pip install --no-deps "peft<0.14"
    /tmp/parity-venv/bin/python runtime/tests/parity/make_fixtures.py

Worked with: transformers 4.46.3, peft 0.13.2, accelerate 1.0.1, safetensors 0.8.0,
torch 1.13.0a0 (Debian python3-torch 1.13.1+dfsg), Python 3.11.2.

The architecture fixtures added later (Qwen3, Qwen2.5, Llama 3.2, ERNIE 4.5, Mistral,
and the Qwen3 and ERNIE 4.5 LoRA adapters) need a newer transformers (ERNIE 4.5 came
in 4.54) and are made separately, without touching the ones above::

    python -m venv /tmp/hf-venv && /tmp/hf-venv/bin/pip install torch transformers peft accelerate
    /tmp/hf-venv/bin/python runtime/tests/parity/make_fixtures.py families
    /tmp/hf-venv/bin/python runtime/tests/parity/make_fixtures.py gemma   # Gemma 2 and Gemma 3 text
    /tmp/hf-venv/bin/python runtime/tests/parity/make_fixtures.py adapters   # all-linear PEFT adapters of the rest

Worked with: transformers 5.17.0, peft 0.21.2, accelerate 1.16.0, safetensors 0.8.0,
torch 2.9.1 (CPU), Python 3.11.2. HF runs its eager attention (softmax in fp32), so the
reference is the plain formula; ``versions.json`` records both sets of versions.

Per model (``fixtures/<name>/``): ``config.json`` and ``model.safetensors`` as
``save_pretrained`` writes them, and ``expected.safetensors`` (written by the
``safetensors`` package, so the runtime's reader is checked against the reference
writer) holding:

- ``input_ids`` ``[3, 16]`` and ``attention_mask``: row 0 full, row 1 right-padded,
  row 2 left-padded; ``logits`` from HF with ``position_ids = cumsum(mask) - 1``;
- ``packed_ids`` ``[1, 16]``, ``packed_segments``, ``packed_logits``: two samples in one
  row; the expected logits are HF's logits of each sample run alone, concatenated;
- for ``llama_lora``: a PEFT adapter (``adapter_model.safetensors``,
  ``adapter_config.json`` saved by PEFT) and ``logits`` of the PEFT model.

Weights are random with non-trivial norms and biases (HF initialises norms to 1 and
biases to 0, which would hide a misapplied norm or bias).
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
RUNTIME = os.path.dirname(os.path.dirname(HERE))

COMMON = dict(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, initializer_range=0.2,
              bos_token_id=1, eos_token_id=2, pad_token_id=0)


def perturb(model: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.3 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.3 * noise)


def inputs(seed: int, vocab: int):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (3, 16), generator=gen)
    mask = torch.ones(3, 16, dtype=torch.int64)
    mask[1, 11:] = 0  # right padding
    mask[2, :4] = 0  # left padding
    ids[mask == 0] = 0
    packed = torch.randint(3, vocab, (1, 16), generator=gen)
    segments = torch.tensor([[1] * 7 + [2] * 9])
    return ids, mask, packed, segments


def hf_logits(model, ids, mask):
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.float()


def packed_expected(model, packed, segments):
    parts = []
    for s in segments.unique().tolist():
        sample = packed[segments == s][None]
        with torch.no_grad():
            parts.append(model(input_ids=sample).logits.float()[0])
    return torch.cat(parts)[None]


def save_expected(folder, tensors):
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(folder, "expected.safetensors"))


def build(name: str, cls, config, seed: int):
    torch.manual_seed(seed)
    if hasattr(config, "_attn_implementation"):
        config._attn_implementation = "eager"
    model = cls(config).eval()
    perturb(model, seed + 1)
    folder = os.path.join(FIXTURES, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    for extra in ("generation_config.json",):
        if os.path.exists(os.path.join(folder, extra)):
            os.remove(os.path.join(folder, extra))
    ids, mask, packed, segments = inputs(seed + 2, config.vocab_size)
    save_expected(folder, {
        "input_ids": ids, "attention_mask": mask, "logits": hf_logits(model, ids, mask),
        "packed_ids": packed, "packed_segments": segments, "packed_logits": packed_expected(model, packed, segments),
    })
    return model, folder


def build_lora(base_model, base_folder: str, seed: int, name: str = "llama_lora",
               targets=("q_proj", "v_proj", "gate_proj", "down_proj")) -> None:
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=list(targets), task_type="CAUSAL_LM")
    peft_model = get_peft_model(base_model, config).eval()
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():  # lora_B starts at zero: give it values so the adapter changes the logits
        for param_name, p in peft_model.named_parameters():
            if "lora_B" in param_name:
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
    folder = os.path.join(FIXTURES, name)
    shutil.rmtree(folder, ignore_errors=True)
    peft_model.save_pretrained(folder)
    readme = os.path.join(folder, "README.md")
    if os.path.exists(readme):
        os.remove(readme)
    ids, mask, _, _ = inputs(seed + 2, base_model.config.vocab_size)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        logits = peft_model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.float()
    save_expected(folder, {"input_ids": ids, "attention_mask": mask, "logits": logits})
    with open(os.path.join(folder, "base.txt"), "w") as f:
        f.write(os.path.basename(base_folder) + "\n")


def write_dtypes() -> None:
    """Every dtype the runtime reads, written by the reference safetensors implementation."""
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(7)
    base = torch.randn(3, 5, generator=gen)
    tensors = {
        "f64": base.double(), "f32": base, "f16": base.half(), "bf16": base.bfloat16(),
        "i64": (base * 100).long(), "i32": (base * 100).int(), "i16": (base * 100).short(), "i8": (base * 10).to(torch.int8),
        "u8": (base.abs() * 10).to(torch.uint8), "bool": base > 0, "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 4),
    }
    save_file(tensors, os.path.join(FIXTURES, "dtypes.safetensors"), metadata={"made_by": "safetensors"})


def main() -> None:
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    os.makedirs(FIXTURES, exist_ok=True)
    llama, llama_folder = build("llama", LlamaForCausalLM, LlamaConfig(**COMMON, rope_theta=10000.0, tie_word_embeddings=False), 100)
    build("qwen2", Qwen2ForCausalLM, Qwen2Config(**COMMON, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False), 200)
    build("llama3_bias", LlamaForCausalLM, LlamaConfig(
        **{**COMMON, "hidden_size": 48, "num_attention_heads": 4, "num_key_value_heads": 1}, head_dim=8,
        rope_theta=500000.0, attention_bias=True, mlp_bias=True, tie_word_embeddings=False,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 16}), 300)
    build_lora(llama, llama_folder, 400)
    write_dtypes()
    write_versions("llama, qwen2, llama3_bias, llama_lora, dtypes.safetensors")
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, files in os.walk(FIXTURES) for n in files)
    print(f"fixtures written; {total / 1024:.0f} KiB in total")
    check_reverse()


ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def main_families() -> None:
    """The architectures of issue 14, each at its real model's shape ratios, scaled down."""
    from transformers import (Ernie4_5Config, Ernie4_5ForCausalLM, LlamaConfig, LlamaForCausalLM, MistralConfig,
                              MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

    small = dict(vocab_size=128, max_position_embeddings=64, initializer_range=0.2, bos_token_id=1, eos_token_id=2,
                 pad_token_id=0)
    # Qwen3-0.6B: 16 heads, 8 kv heads, head_dim 128 (not hidden / heads), q/k norms, tied.
    qwen3, qwen3_folder = build("qwen3", Qwen3ForCausalLM, Qwen3Config(
        **small, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6, rope_theta=1000000.0, attention_bias=False,
        tie_word_embeddings=True), 500)
    build_lora(qwen3, qwen3_folder, 510, "qwen3_lora", ALL_LINEAR)
    # Qwen2.5-0.5B: 14 heads, 2 kv heads (GQA 7:1), head_dim 64, rope_theta 1e6, tied.
    build("qwen2_5", Qwen2ForCausalLM, Qwen2Config(
        **small, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=14,
        num_key_value_heads=2, head_dim=64, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
        use_sliding_window=False), 600)
    # Llama-3.2-1B: GQA 4:1, tied, rope llama3 factor 32 over an original 8192 positions, theta 5e5.
    build("llama3_2", LlamaForCausalLM, LlamaConfig(
        **{**small, "max_position_embeddings": 131072}, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=8,
        num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True,
        rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192}), 700)
    # ERNIE-4.5-0.3B: 16 heads, 2 kv heads (8:1), head_dim 128 = 2 * hidden / heads, interleaved rotary, tied, no biases.
    ernie, ernie_folder = build("ernie4_5", Ernie4_5ForCausalLM, Ernie4_5Config(
        **small, hidden_size=32, intermediate_size=96, num_hidden_layers=2, num_attention_heads=8,
        num_key_value_heads=1, head_dim=8, rms_norm_eps=1e-5, rope_theta=500000.0, use_bias=False,
        tie_word_embeddings=True), 800)
    build_lora(ernie, ernie_folder, 810, "ernie4_5_lora", ALL_LINEAR)
    # ERNIE 4.5 with use_bias (every projection biased): the option the 0.3B leaves off.
    build("ernie4_5_bias", Ernie4_5ForCausalLM, Ernie4_5Config(
        **small, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-5, rope_theta=500000.0, use_bias=True,
        tie_word_embeddings=False), 850)
    # Mistral: a 4-token sliding window, shorter than the 16-token rows and both packed samples.
    build("mistral", MistralForCausalLM, MistralConfig(
        **small, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=1000000.0, sliding_window=4,
        tie_word_embeddings=False), 900)
    write_versions("qwen3, qwen3_lora, qwen2_5, llama3_2, ernie4_5, ernie4_5_lora, ernie4_5_bias, mistral")


def main_gemma() -> None:
    """Gemma 2 and Gemma 3 (text): sliding and global layers, a window shorter than every sample."""
    from transformers import Gemma2Config, Gemma2ForCausalLM, Gemma3ForCausalLM, Gemma3TextConfig

    small = dict(vocab_size=128, max_position_embeddings=64, initializer_range=0.2, bos_token_id=2, eos_token_id=1,
                 pad_token_id=0, hidden_activation="gelu_pytorch_tanh", rms_norm_eps=1e-6, sliding_window=4)
    # Gemma-2-2B: GQA 2:1, soft-capped scores (50) and logits (30), tied; query_pre_attn_scalar
    # differs from head_dim here (as in Gemma-2-27B) so the scale's source is tested.
    build("gemma2", Gemma2ForCausalLM, Gemma2Config(
        **small, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=24, rope_theta=10000.0,
        attn_logit_softcapping=50.0, final_logit_softcapping=30.0, tie_word_embeddings=True,
        layer_types=["sliding_attention", "full_attention"]), 1000)
    # Gemma-3-1B: 4 heads, 1 kv head, q/k norms, global rope 1e6 and local 1e4, no soft-capping, tied.
    build("gemma3_text", Gemma3ForCausalLM, Gemma3TextConfig(
        **small, hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16, tie_word_embeddings=True,
        layer_types=["sliding_attention", "sliding_attention", "full_attention"],
        rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}), 1100)
    write_versions("gemma2, gemma3_text")


def main_adapters() -> None:
    """All-linear PEFT adapters over the committed fixtures of the families that had none (loaded, not rebuilt)."""
    from transformers import AutoModelForCausalLM

    made = []
    for seed, base in enumerate(["qwen2_5", "llama3_2", "mistral", "gemma2", "gemma3_text"]):
        folder = os.path.join(FIXTURES, base)
        model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="eager").eval()
        build_lora(model, folder, 1200 + 10 * seed, f"{base}_lora", ALL_LINEAR)
        made.append(f"{base}_lora")
    write_versions(", ".join(made))


def write_versions(fixtures: str) -> None:
    """One entry per set of fixtures, keyed by the fixtures it made (the others are kept)."""
    import accelerate
    import peft
    import safetensors
    import transformers

    path = os.path.join(FIXTURES, "versions.json")
    entries = []
    if os.path.exists(path):
        with open(path) as f:
            entries = [e for e in json.load(f) if e["fixtures"] != fixtures]
    entries.append({"fixtures": fixtures, "transformers": transformers.__version__, "peft": peft.__version__,
                    "accelerate": accelerate.__version__, "safetensors": safetensors.__version__,
                    "torch": torch.__version__, "python": sys.version.split()[0]})
    with open(path, "w") as f:
        json.dump(entries, f, indent=2)
        f.write("\n")


def check_reverse() -> None:
    """The other direction: the reference safetensors reads what the runtime's writer writes."""
    from safetensors.torch import load_file

    sys.path.insert(0, RUNTIME)
    from sailfin_runtime.io import safetensors as ours

    tmp = os.path.join(FIXTURES, "..", "reverse-check.safetensors")
    tensors = {"a": torch.randn(4, 3), "b": torch.randn(2).bfloat16(), "c": torch.arange(5), "d": torch.tensor(True),
               "e": torch.zeros(0, 2, dtype=torch.float16)}
    ours.save_file(tensors, tmp, metadata={"k": "v"})
    back = load_file(tmp)
    os.remove(tmp)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v), k
    print("reference safetensors reads the runtime's writer output: ok")


if __name__ == "__main__":
    {"families": main_families, "gemma": main_gemma, "adapters": main_adapters}.get(sys.argv[1] if sys.argv[1:] else "", main)()
