#!/usr/bin/env python3
"""Sailfin's runtime against Hugging Face Trainer + PEFT: same data, same model shapes, same card, one run.

    python bench/gpu-train.py                        # on a CUDA machine: the GPU preset (see PRESETS)
    python bench/gpu-train.py --preset gpu-8b        # Llama-3.1-8B shape, LoRA at seq 4096: does it fit?
    /work/hf-venv/bin/python bench/gpu-train.py --preset cpu-smoke   # tiny shapes, a few steps, on CPU

Needs torch 2.x, ``transformers`` (>= 4.44: ``DataCollatorWithFlattening``) and ``peft``; not ``trl``.
Writes ``bench/results/gpu-train-<preset>.json`` (or ``--out DIR``) and prints a markdown table.

Rows: each model shape x parameter scale (LoRA r16 on all linear layers, full fine-tuning) runs
(a) Sailfin: ``sailfin_runtime.recipes.finetune.run`` on a spec read by ``read_finetune_spec`` (the
    entry point ``python -m sailfin_runtime finetune`` calls), on token shards written in the
    protocol's format; trained tokens/s from its ``metrics`` events. The run is stopped by raising
    from the event sink right after the last timed step's ``metrics`` event, so the end-of-run
    checkpoint (for 1B full fine-tuning: 5 GB weights and 10 GB optimizer state) is not written:
    it lies outside the measured span anyway;
(b) HF: ``AutoModelForCausalLM`` on the same model folder, ``Trainer`` with bf16, fused AdamW,
    padding-free packing (``DataCollatorWithFlattening``: the samples of the same rows flattened
    into one sequence with ``position_ids`` restarting per sample, so attention never crosses
    samples), ``attn_implementation`` flash_attention_2 when ``flash_attn`` imports, else sdpa
    (transformers then builds a block-causal mask from the position_ids); PEFT ``LoraConfig``
    with ``target_modules="all-linear"``. Full fine-tuning loads fp32 weights (bf16 autocast,
    fp32 master weights: the same numerics as Sailfin's ``precision: bf16``); LoRA loads the
    frozen base in bf16 as PEFT's and Trainer's docs do (``--hf-lora-base-dtype``).
Each run is a child process of its own (``--child``), so peak memory is per row:
``torch.cuda.max_memory_allocated`` on GPU, the process's max RSS on CPU. Runs alternate a, b.

Timing: the same batch (rows x seq tokens), learning rate, cosine schedule with the same warm-up
steps, weight decay, gradient clipping and gradient checkpointing flag; ``--warmup`` steps are
not timed; tokens/s = trained tokens (loss-carrying targets) of the timed steps / the wall time
from the end of the last warm-up step to the end of the last step (CUDA synchronised: both
sides read the loss as a Python float every step).

MFU = model FLOPs per second / the card's bf16 dense peak (H100 SXM and H200: 989 TFLOP/s;
``--peak-tflops`` for another card; "n/a" on CPU). Model FLOPs of a step =
6 * N * tokens + sum over samples of 6 * L * (heads * head_dim) * len^2, where N counts the
weights of every matmul (attention and MLP projections, the LM head; not the embedding lookup),
tokens are every real token of the step's rows (trained or not), and the second term is the
attention's 12 * L * d_attn * s per token halved for the causal mask, with s the packed sample's
own length (attention never crosses samples). The same formula for LoRA (the frozen weights'
gradient GEMMs are counted though not run), so compare LoRA MFU between the two sides only.
"""

from __future__ import annotations

from common import ROOT, cpu_model, utc_now  # bench/common.py: puts runtime/ and runtime/tests/ on sys.path

import argparse
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.join(ROOT, "runtime")

# The real models' config.json values (Hugging Face hub, as published); weights are random.
SHAPES: Dict[str, Dict[str, Any]] = {
    "qwen2.5-0.5b": {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896,
        "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
        "max_position_embeddings": 32768, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
        "use_sliding_window": False, "sliding_window": 32768, "max_window_layers": 21, "hidden_act": "silu",
        "attention_dropout": 0.0, "initializer_range": 0.02, "bos_token_id": 151643, "eos_token_id": 151643,
        "torch_dtype": "bfloat16", "use_cache": True,
    },
    "llama-3.2-1b": {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
        "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
        "head_dim": 64, "max_position_embeddings": 131072, "rope_theta": 500000.0,
        "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "rms_norm_eps": 1e-5, "tie_word_embeddings": True, "attention_bias": False, "attention_dropout": 0.0,
        "mlp_bias": False, "pretraining_tp": 1, "hidden_act": "silu", "initializer_range": 0.02,
        "bos_token_id": 128000, "eos_token_id": 128001, "torch_dtype": "bfloat16", "use_cache": True,
    },
    "llama-3.1-8b": {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256, "hidden_size": 4096,
        "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "max_position_embeddings": 131072, "rope_theta": 500000.0,
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "rms_norm_eps": 1e-5, "tie_word_embeddings": False, "attention_bias": False, "attention_dropout": 0.0,
        "mlp_bias": False, "pretraining_tp": 1, "hidden_act": "silu", "initializer_range": 0.02,
        "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "torch_dtype": "bfloat16", "use_cache": True,
    },
}
# CPU smoke: each family's config with small dimensions (same model_type, rope scaling, tying, GQA).
_TINY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "vocab_size": 2048}
SHAPES["tiny-qwen2.5"] = {**SHAPES["qwen2.5-0.5b"], **_TINY}
SHAPES["tiny-llama-3.2"] = {**SHAPES["llama-3.2-1b"], **_TINY, "head_dim": 16}
SHAPES["tiny-llama-3.1"] = {**SHAPES["llama-3.1-8b"], **_TINY, "num_hidden_layers": 3}

PRESETS: Dict[str, Dict[str, Any]] = {
    # The comparison: seq 2048, both shapes, both scales. ~8k tokens a step.
    "gpu": {"shapes": ["qwen2.5-0.5b", "llama-3.2-1b"], "scales": ["LoRA", "FullFineTuning"], "seq": 2048,
            "batch": 4, "warmup": 2, "steps": 8},
    # Does an 8B LoRA fit one 80 GB card at seq 4096, and how fast.
    "gpu-8b": {"shapes": ["llama-3.1-8b"], "scales": ["LoRA"], "seq": 4096, "batch": 1, "warmup": 2, "steps": 5},
    # Tested on CPU: the same code path end to end, tiny shapes, a few steps.
    "cpu-smoke": {"shapes": ["tiny-qwen2.5", "tiny-llama-3.2", "tiny-llama-3.1"], "scales": ["LoRA", "FullFineTuning"],
                  "seq": 256, "batch": 2, "warmup": 1, "steps": 3},
}
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LORA_R, LORA_ALPHA = 16, 32
LR, WEIGHT_DECAY, WARMUP_RATIO, MAX_GRAD_NORM, SEED = 2e-5, 0.01, 0.1, 1.0, 42
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0}  # bf16 dense, SXM


# ---------------------------------------------------------------------------- shapes and FLOPs
def matmul_params(cfg: Dict[str, Any]) -> int:
    """N: weights of every matmul (q/k/v/o, gate/up/down, LM head), biases included; not the embedding lookup."""
    d, inter, layers, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or d // heads
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    attn = d * heads * hd + 2 * d * kv * hd + heads * hd * d + (heads * hd + 2 * kv * hd if qkv_bias else 0)
    mlp = 3 * d * inter
    return layers * (attn + mlp) + vocab * d


def attention_width(cfg: Dict[str, Any]) -> int:
    return cfg["num_attention_heads"] * (cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"])


def flops_per_token(cfg: Dict[str, Any], data: Dict[str, float]) -> float:
    """6N plus the causal attention term, per real token, for this data's sample lengths."""
    return 6 * matmul_params(cfg) + 6 * cfg["num_hidden_layers"] * attention_width(cfg) * data["sumSquaredLengths"] / data["tokens"]


# ---------------------------------------------------------------------------- data and model folders
def make_rows(rows: int, seq: int, vocab: int, seed: int):
    """Rows filled to the last position with samples of random length (seq/8 .. seq/2): a quarter prompt, then response.

    Returns ids, mask (1 = response token), seg (1, 2, ... per sample) and the stats the FLOPs need.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(10, vocab, size=(rows, seq), dtype=np.int64)
    mask = np.zeros((rows, seq), dtype=np.int64)
    seg = np.zeros((rows, seq), dtype=np.int64)
    low, high = max(4, seq // 8), max(8, seq // 2)
    sum_sq = 0
    for r in range(rows):
        pos, n = 0, 0
        while pos < seq:
            length = int(rng.integers(low, high + 1))
            if seq - pos - length < low:  # the last sample takes the rest of the row: no padding
                length = seq - pos
            n += 1
            prompt = max(1, length // 4)
            seg[r, pos:pos + length] = n
            mask[r, pos + prompt:pos + length] = 1
            sum_sq += length * length
            pos += length
    return ids, mask, seg, {"tokens": float(rows * seq), "sumSquaredLengths": float(sum_sq)}


def write_model_dir(folder: str, cfg: Dict[str, Any], seed: int = 0) -> str:
    """config.json + model.safetensors (bf16, normal(0, initializer_range), norms 1), HF names; made on the GPU when there is one."""
    import torch

    from sailfin_runtime.io import safetensors
    from sailfin_runtime.models.decoder import CausalLM, ModelConfig

    os.makedirs(folder, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device("meta"):  # names and shapes only, no memory
        shapes = {k: tuple(v.shape) for k, v in CausalLM(ModelConfig.from_dict(cfg)).hf_state_dict().items()}
    gen = torch.Generator(device=device).manual_seed(seed)
    weights = {}
    for name, shape in shapes.items():
        if name.endswith("norm.weight"):
            weights[name] = torch.ones(shape, dtype=torch.bfloat16)
        elif name.endswith(".bias"):
            weights[name] = torch.zeros(shape, dtype=torch.bfloat16)
        else:
            t = torch.empty(shape, dtype=torch.bfloat16, device=device).normal_(0.0, cfg["initializer_range"], generator=gen)
            weights[name] = t.cpu()
    safetensors.save_file(weights, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    if device == "cuda":
        torch.cuda.empty_cache()  # the children need the card: this process keeps only its context
    return folder


def qlora_hyper() -> Optional[Dict[str, Any]]:
    """The runtime's base-quantization hyper-parameter, if its protocol schema has one: ``{name: 4-bit value}``.

    Read from the schema (``spec.hyper_properties``), so the bench needs no change when it lands.
    """
    from sailfin_runtime.spec import hyper_properties

    for name, prop in hyper_properties().items():
        if "quant" not in name.lower():
            continue
        choices = [c for c in prop.get("enum", []) if isinstance(c, str)]
        four_bit = [c for c in choices if "nf4" in c.lower()] or [c for c in choices if "4" in c]
        if four_bit:
            return {name: four_bit[0]}
        if prop.get("type") == "boolean":
            return {name: True}
    return None


# ---------------------------------------------------------------------------- children: one run each
class _Measured(Exception):
    """Raised from the event sink after the last timed step: the run's end-of-run checkpoint is not benchmarked."""


def _peak_memory(device) -> int:
    import torch

    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def child_sailfin(job: Dict[str, Any]) -> Dict[str, Any]:
    from sailfin_runtime import _compat

    _compat.configure_blas_env(job["precision"])  # before torch loads, as the runtime's __main__ does
    import torch

    from sailfin_runtime.protocol import EventSink, StopFlag
    from sailfin_runtime.recipes import finetune
    from sailfin_runtime.spec import read_finetune_spec

    total = job["warmup"] + job["steps"]

    class Sink(EventSink):
        def emit(self, event: str, **fields: Any) -> dict:
            record = super().emit(event, **fields)
            if event == "metrics" and fields["step"] >= total:
                raise _Measured()
            return record

    events = Sink(stream=open(os.devnull, "w"), keep=True)
    try:
        finetune.run(read_finetune_spec(job["spec"]), events, StopFlag())
    except _Measured:
        pass
    started = next(e for e in events.events if e["event"] == "started")
    metrics = [e for e in events.events if e["event"] == "metrics"]
    assert len(metrics) == total, f"{len(metrics)} metrics events, expected {total}"
    first, last = metrics[job["warmup"] - 1], metrics[-1]
    device = torch.device(started["device"])
    return {"trainedTokens": last["trainedTokens"] - first["trainedTokens"], "seconds": last["time"] - first["time"],
            "loss": last["loss"], "firstLoss": metrics[0]["loss"], "peakMemoryBytes": _peak_memory(device), "device": started["device"],
            "parameters": started["parameters"], "trainable": started["trainableParameters"], "torch": torch.__version__}


def child_hf(job: Dict[str, Any]) -> Dict[str, Any]:
    from sailfin_runtime import _compat

    _compat.configure_blas_env(job["precision"])  # the same threads as the Sailfin child
    import numpy as np
    import torch
    import transformers
    from transformers import (AutoModelForCausalLM, DataCollatorWithFlattening, Trainer, TrainerCallback,
                              TrainingArguments)

    from sailfin_runtime.data import DataOrder
    from sailfin_runtime.io.shards import open_split

    cuda = torch.cuda.is_available() and job["device"] != "cpu"
    device = torch.device("cuda" if cuda else "cpu")
    _compat.configure_torch_threads(job["precision"], device)
    split = open_split(job["train"], "data.train", "SFT")
    # The rows in the runtime's own order (its DataOrder, epoch 0), drawn in sequence below: step k of
    # both sides trains the same rows, so their step-1 losses must agree (a check that both do the same work).
    rows = split.get(DataOrder(split, job["batch"], 1, SEED).permutation(0))
    # Each dataset item is one packed row: its samples, labels = ids on response tokens (-100 elsewhere).
    dataset = []
    for r in range(split.rows):
        samples = []
        for s in np.unique(rows.seg[r][rows.seg[r] > 0]):
            where = rows.seg[r] == s
            ids = rows.ids[r][where].tolist()
            labels = np.where(rows.mask[r][where] == 1, rows.ids[r][where], -100).tolist()
            samples.append({"input_ids": ids, "labels": labels})
        dataset.append({"samples": samples})
    attn = job["hfAttention"]
    if attn == "auto":
        try:
            import flash_attn  # noqa: F401

            attn = "flash_attention_2" if cuda else "sdpa"
        except ImportError:
            attn = "sdpa"
    flatten = DataCollatorWithFlattening(return_flash_attn_kwargs=attn == "flash_attention_2")
    targets: List[int] = []  # trained targets of each batch, in the order the Trainer draws them

    def collate(features):
        batch = flatten([s for f in features for s in f["samples"]])
        targets.append(int((batch["labels"] != -100).sum()))  # the first token of each sample is -100 already
        return batch

    lora = job["scale"] == "LoRA"
    dtype = getattr(torch, job["hfLoraBaseDtype"]) if lora else torch.float32
    model = AutoModelForCausalLM.from_pretrained(job["modelDir"], dtype=dtype, attn_implementation=attn)
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=LORA_R, lora_alpha=LORA_ALPHA, lora_dropout=0.0,
                                                 target_modules="all-linear", task_type="CAUSAL_LM"))
    total = job["warmup"] + job["steps"]
    times: List[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter())

    args = TrainingArguments(
        output_dir=job["outputDir"], per_device_train_batch_size=job["batch"], gradient_accumulation_steps=1,
        max_steps=total, learning_rate=LR, lr_scheduler_type="cosine",
        warmup_steps=int(math.ceil(total * WARMUP_RATIO)), weight_decay=WEIGHT_DECAY, max_grad_norm=MAX_GRAD_NORM,
        bf16=job["precision"] == "bf16", optim="adamw_torch_fused" if cuda else "adamw_torch",
        gradient_checkpointing=job["gradientCheckpointing"],
        gradient_checkpointing_kwargs={"use_reentrant": False} if job["gradientCheckpointing"] else None,
        torch_compile=job["compile"], logging_steps=1, save_strategy="no", report_to="none", seed=SEED,
        dataloader_num_workers=0, remove_unused_columns=False, disable_tqdm=True, use_cpu=not cuda)
    class InOrder(Trainer):
        def _get_train_sampler(self, *args, **kwargs):
            return torch.utils.data.SequentialSampler(self.train_dataset)

    trainer = InOrder(model=model, args=args, train_dataset=dataset, data_collator=collate, callbacks=[Clock()])
    trainer.train()
    assert len(times) == total, f"{len(times)} steps, expected {total}"
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    # The collator may have run one batch ahead of the step being timed; the order still matches.
    return {"trainedTokens": sum(targets[job["warmup"]:total]), "seconds": times[-1] - times[job["warmup"] - 1],
            "loss": losses[-1] if losses else None, "firstLoss": losses[0] if losses else None, "peakMemoryBytes": _peak_memory(device), "device": str(device),
            "attention": attn, "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "torch": torch.__version__, "transformers": transformers.__version__}


# ---------------------------------------------------------------------------- driver
def run_child(kind: str, job: Dict[str, Any], work: str, timeout: float) -> Dict[str, Any]:
    path = os.path.join(work, f"job-{kind}-{job['name']}.json")
    with open(path, "w") as f:
        json.dump(job, f)
    env = dict(os.environ)
    env["PYTHONPATH"] = RUNTIME + os.pathsep + env.get("PYTHONPATH", "")
    started = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", kind, path], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{\"child\"")]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-6:]
        oom = any("out of memory" in line.lower() for line in tail)
        return {"error": ("out of memory: " if oom else f"exit {proc.returncode}: ") + " | ".join(tail)[-600:]}
    result = json.loads(lines[-1])["child"]
    result["processSeconds"] = round(time.perf_counter() - started, 1)
    return result


def child_main(kind: str, job_path: str) -> None:
    with open(job_path) as f:
        job = json.load(f)
    result = (child_sailfin if kind == "sailfin" else child_hf)(job)
    print(json.dumps({"child": result}), flush=True)


def device_info() -> Dict[str, Any]:
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        peak = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
        return {"device": "cuda", "name": name, "peakTflops": peak}
    return {"device": "cpu", "name": cpu_model(), "peakTflops": None}


def summarise(row: Dict[str, Any], cfg: Dict[str, Any], data: Dict[str, float], peak: Optional[float]) -> None:
    """tokens/s, MFU and memory of a finished run, in place."""
    if "error" in row or "skipped" in row:
        return
    row["trainedTokensPerSecond"] = row["trainedTokens"] / row["seconds"]
    all_tokens_per_second = row["trainedTokensPerSecond"] * data["tokens"] / data["trainedTokens"]
    row["tokensPerSecond"] = all_tokens_per_second
    row["mfu"] = all_tokens_per_second * flops_per_token(cfg, data) / (peak * 1e12) if peak else None
    row["peakMemoryGiB"] = row["peakMemoryBytes"] / 2 ** 30


def markdown(result: Dict[str, Any]) -> List[str]:
    dev = result["machine"]
    mem = "peak GiB (max_memory_allocated)" if dev["device"] == "cuda" else "peak GiB (max RSS)"
    lines = [f"`bench/gpu-train.py --preset {result['preset']}` on {dev['name']}, {result['time']}; "
             f"seq {result['seq']}, {result['batch']} rows a step, {result['warmup']} warm-up + {result['steps']} timed steps, "
             f"bf16, gradient checkpointing {'on' if result['gradientCheckpointing'] else 'off'}",
             "",
             f"| shape | scale | Sailfin trained tok/s | HF trained tok/s | **ratio** | Sailfin MFU | HF MFU | Sailfin {mem} | HF {mem} | step-1 loss Sailfin / HF | HF attention |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]

    def cell(row, key, fmt):
        if "error" in row or "skipped" in row:
            return "—"
        value = row.get(key)
        return "n/a" if value is None else fmt.format(value)

    for r in result["rows"]:
        s, h = r["sailfin"], r["hf"]
        ratio = (f"**{s['trainedTokensPerSecond'] / h['trainedTokensPerSecond']:.2f}×**"
                 if "trainedTokensPerSecond" in s and "trainedTokensPerSecond" in h else "—")
        lines.append(f"| {r['shape']} | {r['scale']} | {cell(s, 'trainedTokensPerSecond', '{:,.0f}')} | "
                     f"{cell(h, 'trainedTokensPerSecond', '{:,.0f}')} | {ratio} | {cell(s, 'mfu', '{:.1%}')} | "
                     f"{cell(h, 'mfu', '{:.1%}')} | {cell(s, 'peakMemoryGiB', '{:.2f}')} | {cell(h, 'peakMemoryGiB', '{:.2f}')} | "
                     f"{cell(s, 'firstLoss', '{:.4f}')} / {cell(h, 'firstLoss', '{:.4f}')} | {h.get('attention', '—')} |")
    errors = [(r["shape"], r["scale"], side, r[side].get("error") or r[side]["skipped"]) for r in result["rows"]
              for side in ("sailfin", "hf") if "error" in r[side] or "skipped" in r[side]]
    for shape, scale, side, error in errors:
        lines.append(f"\n- {shape} {scale} {side}: {error}")
    for note in result["notes"]:
        lines.append(f"\n- {note}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None,
                        help="gpu on a CUDA machine, cpu-smoke otherwise")
    parser.add_argument("--shapes", help="comma-separated, overrides the preset's")
    parser.add_argument("--scales", help="comma-separated LoRA,FullFineTuning, overrides the preset's")
    for knob in ("seq", "batch", "warmup", "steps"):
        parser.add_argument(f"--{knob}", type=int)
    parser.add_argument("--gradient-checkpointing", action="store_true", help="on both sides")
    parser.add_argument("--compile", action="store_true", help="SAILFIN_COMPILE=1 and Trainer's torch_compile")
    parser.add_argument("--qlora", action="store_true",
                        help="also a Sailfin LoRA row over a 4-bit base (skipped when the runtime has no such hyper)")
    parser.add_argument("--hf-attention", default="auto", help="auto (flash_attention_2 if flash_attn imports, else sdpa), sdpa, flex_attention, eager")
    parser.add_argument("--hf-lora-base-dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--peak-tflops", type=float, help="the card's bf16 dense peak, if not an H100/H200")
    parser.add_argument("--row-timeout", type=float, default=900.0, help="seconds for one run (a child process)")
    parser.add_argument("--out", help="folder for the JSON (default bench/results)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(*args.child)
        return

    import torch

    import helpers  # runtime/tests/helpers.py: shards in the protocol's format

    machine = device_info()
    preset_name = args.preset or ("gpu" if machine["device"] == "cuda" else "cpu-smoke")
    preset = dict(PRESETS[preset_name])
    for knob in ("seq", "batch", "warmup", "steps"):
        if getattr(args, knob) is not None:
            preset[knob] = getattr(args, knob)
    shapes = args.shapes.split(",") if args.shapes else preset["shapes"]
    scales = args.scales.split(",") if args.scales else preset["scales"]
    if args.peak_tflops:
        machine["peakTflops"] = args.peak_tflops
    if args.compile:
        os.environ["SAILFIN_COMPILE"] = "1"
    notes: List[str] = []
    variants = [(scale, None) for scale in scales]
    if args.qlora:
        quant = qlora_hyper()
        if quant and "LoRA" in scales:
            variants.append(("LoRA", quant))
        else:
            notes.append("QLoRA row skipped: the runtime's spec schema has no base-quantization hyper-parameter"
                         if not quant else "QLoRA row skipped: no LoRA scale in this run")
    notes.append("MFU = (6·N·tokens + Σ_samples 6·L·d_attn·len²) / time / peak; N = matmul weights (LM head included, "
                 "embedding lookup not); tokens = every real token of the rows; peak = "
                 + (f"{machine['peakTflops']:.0f} TFLOP/s bf16 dense" if machine["peakTflops"] else "n/a on CPU"))
    seq, batch, warmup, steps = preset["seq"], preset["batch"], preset["warmup"], preset["steps"]
    total = warmup + steps
    work = tempfile.mkdtemp(prefix="sailfin-bench-gpu-")
    rows: List[Dict[str, Any]] = []
    out_dir = args.out or os.path.join(HERE, "results")
    os.makedirs(out_dir, exist_ok=True)
    suffix = ("-gc" if args.gradient_checkpointing else "") + ("-compile" if args.compile else "")
    path = os.path.join(out_dir, f"gpu-train-{preset_name}{suffix}.json")
    result = {"preset": preset_name, "time": utc_now(), "machine": machine, "torch": torch.__version__,
              "seq": seq, "batch": batch, "warmup": warmup, "steps": steps,
              "gradientCheckpointing": args.gradient_checkpointing, "compile": args.compile, "rows": rows, "notes": notes,
              "flopsFormula": "6*N*tokens + sum over samples of 6*L*heads*head_dim*len^2"}

    def save() -> None:  # after every row: a run cut short by a timeout still leaves what it measured
        with open(path, "w") as f:
            json.dump(result, f, indent=1)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stage timeout still runs the clean-up below
    print(f"{machine['name']}: preset {preset_name}, shapes {shapes}, seq {seq}, batch {batch}, {warmup}+{steps} steps",
          flush=True)
    try:
        for shape in shapes:
            cfg = dict(SHAPES[shape])
            cfg["max_position_embeddings"] = max(cfg["max_position_embeddings"], seq)
            started = time.perf_counter()
            model_dir = write_model_dir(os.path.join(work, f"model-{shape}"), cfg)
            ids, mask, seg, data = make_rows(total * batch, seq, cfg["vocab_size"], seed=0)
            train_dir = helpers.write_split(os.path.join(work, f"train-{shape}"), "packed", ids, mask, seg)
            data["trainedTokens"] = float((mask[:, 1:] * (seg[:, 1:] == seg[:, :-1])).sum())
            print(f"{shape}: model folder and data written in {time.perf_counter() - started:.0f} s "
                  f"(N = {matmul_params(cfg) / 1e9:.3f}B matmul weights)", flush=True)
            for scale, quant in variants:
                name = f"{shape}-{scale}" + ("-qlora" if quant else "")
                hyper = {"epoch": 1, "learningRate": LR, "batchSize": batch, "gradientAccumulationSteps": 1,
                         "warmupRatio": WARMUP_RATIO, "weightDecay": WEIGHT_DECAY, "schedulerName": "cosine",
                         "maxGradNorm": MAX_GRAD_NORM, "loggingSteps": 1, "saveStep": 1000000, "checkpointCount": 1,
                         "seed": SEED, "loraRank": LORA_R, "loraAlpha": LORA_ALPHA, "loraDropout": 0.0,
                         "loraTargetModules": LORA_TARGETS, "dpoBeta": 0.1, "ktoBeta": 0.1,
                         "gradientCheckpointing": args.gradient_checkpointing, **(quant or {})}
                spec = {"version": 1, "runId": f"task-bench-{name}", "trainMode": "SFT", "parameterScale": scale,
                        "modelDir": model_dir, "initCheckpoint": None, "data": {"train": train_dir, "validation": None},
                        "outputDir": os.path.join(work, f"out-{name}"), "resumeFrom": None,
                        "device": machine["device"], "precision": "bf16", "hyper": hyper}
                spec_path = os.path.join(work, f"spec-{name}.json")
                with open(spec_path, "w") as f:
                    json.dump(spec, f)
                job = {"name": name, "spec": spec_path, "modelDir": model_dir, "train": train_dir, "scale": scale,
                       "batch": batch, "warmup": warmup, "steps": steps, "precision": "bf16", "device": machine["device"],
                       "gradientCheckpointing": args.gradient_checkpointing, "compile": args.compile,
                       "hfAttention": args.hf_attention, "hfLoraBaseDtype": args.hf_lora_base_dtype,
                       "outputDir": os.path.join(work, f"hf-{name}")}
                sailfin = run_child("sailfin", job, work, args.row_timeout)
                hf = (run_child("hf", job, work, args.row_timeout) if not quant
                      else {"skipped": "no HF QLoRA row (bitsandbytes is not on the card's image)"})
                for side in (sailfin, hf):
                    summarise(side, cfg, data, machine["peakTflops"])
                row = {"shape": shape, "scale": scale + (" + 4-bit base" if quant else ""), "sailfin": sailfin, "hf": hf}
                rows.append(row)
                save()
                print(f"  {row['scale']}: " + ", ".join(
                    f"{side} {r['trainedTokensPerSecond']:,.0f} tok/s, {r['peakMemoryGiB']:.2f} GiB" if "trainedTokensPerSecond" in r
                    else f"{side}: {r.get('error', r.get('skipped'))[:200]}" for side, r in (("sailfin", sailfin), ("hf", hf))), flush=True)
            shutil.rmtree(model_dir, ignore_errors=True)  # an 8B folder is 16 GB
    finally:  # also when a run is interrupted: an 8B model folder is 16 GB
        shutil.rmtree(work, ignore_errors=True)
    save()
    print("\n" + "\n".join(markdown(result)))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
