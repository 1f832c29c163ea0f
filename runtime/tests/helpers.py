"""Test helpers: tiny random models as HF folders, token shards in the protocol format, specs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Dict, List, Optional

import numpy as np
import torch

from sailfin_runtime.io import safetensors
from sailfin_runtime.models.decoder import CausalLM, ModelConfig
from sailfin_runtime.protocol import EventSink, StopFlag
from sailfin_runtime.spec import read_export_spec, read_finetune_spec

RUNTIME_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = 300


def tiny_config(model_type: str = "llama", tied: bool = False, **overrides) -> Dict:
    cfg = {
        "architectures": ["Qwen2ForCausalLM" if model_type == "qwen2" else "LlamaForCausalLM"],
        "model_type": model_type, "vocab_size": VOCAB, "hidden_size": 32, "intermediate_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0 if model_type == "llama" else 1000000.0, "max_position_embeddings": 128,
        "tie_word_embeddings": tied, "hidden_act": "silu", "torch_dtype": "float32", "initializer_range": 0.02,
        "bos_token_id": 1, "eos_token_id": 2,
    }
    cfg.update(overrides)
    return cfg


def make_model_dir(folder: str, model_type: str = "llama", tied: bool = False, seed: int = 0,
                   dtype: torch.dtype = torch.float32, **overrides) -> str:
    """A complete HF-style model folder: config.json, model.safetensors, a tokenizer file."""
    os.makedirs(folder, exist_ok=True)
    cfg = tiny_config(model_type, tied, **overrides)
    cfg["torch_dtype"] = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}[dtype]
    model = CausalLM(ModelConfig.from_dict(cfg)).init_weights(seed)
    weights = {k: v.to(dtype) for k, v in model.hf_state_dict().items()}
    safetensors.save_file(weights, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump({"version": "1.0", "model": {"type": "BPE", "vocab": {}}}, f)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"chat_template": "{{ messages }}"}, f)
    return folder


def write_split(folder: str, kind: str, ids: np.ndarray, mask: np.ndarray, seg: np.ndarray,
                kto: Optional[np.ndarray] = None, split: str = "train", shard_rows: int = 64, pad_id: int = 0) -> str:
    """Write rows as shards + manifest exactly as docs/runtime-protocol.md describes."""
    os.makedirs(folder, exist_ok=True)
    rows, seq_len = ids.shape
    shards = []
    for n, begin in enumerate(range(0, rows, shard_rows)):
        name = f"shard-{n:05d}"
        end = min(rows, begin + shard_rows)
        ids[begin:end].astype("<u4").tofile(os.path.join(folder, f"{name}.ids.u32"))
        mask[begin:end].astype("u1").tofile(os.path.join(folder, f"{name}.mask.u8"))
        seg[begin:end].astype("<u2").tofile(os.path.join(folder, f"{name}.seg.u16"))
        if kto is not None:
            kto[begin:end].astype("u1").tofile(os.path.join(folder, f"{name}.kto.u8"))
        shards.append({"name": name, "rows": end - begin})
    manifest = {
        "format": "sailfin-shards/1", "kind": kind, "split": split, "seqLen": seq_len, "padId": pad_id,
        "rows": rows, "samples": int(rows if kind == "packed" else rows // 2), "truncatedSamples": 0,
        "tokens": int((seg > 0).sum()), "trainedTokens": int(mask.sum()),
        "contentHash": f"test-{kind}-{split}-{rows}-{int(ids.sum())}", "shards": shards,
    }
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    return folder


def pattern_next(token: int) -> int:
    """The learnable rule: each response token determines the next one."""
    return 10 + (token * 7 + 3) % 250


def packed_rows(rows: int, seq_len: int, seed: int, samples_per_row: int = 2):
    """SFT rows: each packed sample is 4 random prompt tokens then a pattern response (mask 1)."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((rows, seq_len), dtype=np.int64)
    mask = np.zeros((rows, seq_len), dtype=np.int64)
    seg = np.zeros((rows, seq_len), dtype=np.int64)
    length = seq_len // samples_per_row - 2
    for r in range(rows):
        pos = 0
        for s in range(samples_per_row):
            prompt = rng.integers(10, 260, size=4)
            response = [int(rng.integers(10, 260))]
            while len(response) < length - 4:
                response.append(pattern_next(response[-1]))
            sample = np.concatenate([prompt, response])
            ids[r, pos:pos + len(sample)] = sample
            mask[r, pos + 4:pos + len(sample)] = 1
            seg[r, pos:pos + len(sample)] = s + 1
            pos += len(sample)
    return ids, mask, seg


def preference_rows(pairs: int, seq_len: int, seed: int):
    """DPO rows: chosen follows the pattern, rejected is random; one segment per row."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((2 * pairs, seq_len), dtype=np.int64)
    mask = np.zeros_like(ids)
    seg = np.zeros_like(ids)
    length = seq_len - 6
    for p in range(pairs):
        prompt = rng.integers(10, 260, size=4)
        first = int(rng.integers(10, 260))
        chosen = [first]
        while len(chosen) < length - 4:
            chosen.append(pattern_next(chosen[-1]))
        rejected = [first] + list(rng.integers(10, 260, size=length - 5))
        for k, response in enumerate((chosen, rejected)):
            row = np.concatenate([prompt, response])
            ids[2 * p + k, :len(row)] = row
            mask[2 * p + k, 4:len(row)] = 1
            seg[2 * p + k, :len(row)] = 1
    return ids, mask, seg


def make_data(folder: str, mode: str, rows: int = 64, seq_len: int = 32, seed: int = 0, validation: bool = True) -> Dict:
    """Train (and validation) splits for a train mode; returns the spec's ``data`` object."""
    out = {}
    for split, n, s in (("train", rows, seed), ("validation", max(4, rows // 8), seed + 1000)):
        if split == "validation" and not validation:
            continue
        path = os.path.join(folder, split)
        if mode in ("SFT", "PostPretrain"):
            ids, mask, seg = packed_rows(n, seq_len, s)
            if mode == "PostPretrain":  # plain text: every token is a target
                mask = (seg > 0).astype(np.int64)
            write_split(path, "packed", ids, mask, seg, split=split)
        else:
            ids, mask, seg = preference_rows(n // 2, seq_len, s)
            if mode == "DPO":
                write_split(path, "preference", ids, mask, seg, split=split)
            else:
                kto = np.tile([1, 0], n // 2)
                write_split(path, "kto", ids, mask, seg, kto=kto, split=split)
        out[split] = path
    if "validation" not in out:
        out["validation"] = None
    return out


def make_spec(path: str, model_dir: str, data: Dict, output_dir: str, mode: str = "SFT", scale: str = "FullFineTuning",
              **hyper) -> str:
    h = {"epoch": 1, "learningRate": 1e-2, "batchSize": 4, "gradientAccumulationSteps": 1, "warmupRatio": 0.1,
         "weightDecay": 0.01, "schedulerName": "cosine", "maxGradNorm": 1.0, "loggingSteps": 1, "saveStep": 1000,
         "checkpointCount": 2, "seed": 42, "loraRank": 8, "loraAlpha": 16, "loraDropout": 0.0,
         "loraTargetModules": ["q_proj", "v_proj"], "dpoBeta": 0.1, "ktoBeta": 0.1}
    extra = {k: hyper.pop(k) for k in ("resumeFrom", "initCheckpoint", "device", "precision") if k in hyper}
    h.update(hyper)
    spec = {"version": 1, "runId": "task-test", "trainMode": mode, "parameterScale": scale, "modelDir": model_dir,
            "initCheckpoint": None, "data": data, "outputDir": output_dir, "resumeFrom": None, "hyper": h,
            "device": "cpu", "precision": "fp32"}
    spec.update(extra)
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


def run_finetune(spec_path: str) -> List[dict]:
    """Run the finetune recipe in-process; returns its events."""
    from sailfin_runtime.recipes import finetune

    events = EventSink(stream=open(os.devnull, "w"), keep=True)
    finetune.run(read_finetune_spec(spec_path), events, StopFlag())
    return events.events


def run_export(spec: Dict, folder: str) -> List[dict]:
    from sailfin_runtime.recipes import export

    path = os.path.join(folder, "export-spec.json")
    with open(path, "w") as f:
        json.dump({"version": 1, **spec}, f)
    events = EventSink(stream=open(os.devnull, "w"), keep=True)
    export.run(read_export_spec(path), events)
    return events.events


def subprocess_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = RUNTIME_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def start_runtime(args: List[str]) -> subprocess.Popen:
    """``python -m sailfin_runtime ...`` with the interpreter running the tests."""
    return subprocess.Popen([sys.executable, "-m", "sailfin_runtime", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=subprocess_env(), cwd=RUNTIME_ROOT)


def losses_of(events: List[dict]) -> Dict[int, float]:
    return {e["step"]: e["loss"] for e in events if e["event"] == "metrics"}


class StopAfter(EventSink):
    """Requests a stop (as SIGTERM would) once the given step has been logged; keeps the events."""

    def __init__(self, stop: StopFlag, step: int):
        super().__init__(stream=open(os.devnull, "w"), keep=True)
        self.stop, self.step = stop, step

    def emit(self, event, **fields):
        record = super().emit(event, **fields)
        if event == "metrics" and fields["step"] >= self.step:
            self.stop.requested = True
        return record
