"""Training smoke tests of the families added after Llama and Qwen2 (Qwen3, ERNIE 4.5, Mistral, Gemma 2/3).

Parity with transformers is test_parity.py's job; here each family goes through the
finetune recipe as a task would: full and LoRA, the loss falls, a run stopped and
resumed from its checkpoint gives the uninterrupted run's losses, and the final
checkpoint loads for inference and generates the same tokens with and without the
KV cache. The configs keep each family's distinguishing option switched on.
"""

from __future__ import annotations

import os

import pytest
import torch

from helpers import StopAfter, losses_of, make_data, make_model_dir, make_spec, run_finetune
from sailfin_runtime.generation import Settings, generate
from sailfin_runtime.models import lora
from sailfin_runtime.models.loading import load_model
from sailfin_runtime.protocol import StopFlag
from sailfin_runtime.recipes import finetune
from sailfin_runtime.spec import read_finetune_spec

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
FAMILIES = {
    # q/k norms over a head_dim unlike hidden / heads, tied embeddings
    "qwen3": dict(architectures=["Qwen3ForCausalLM"], head_dim=16, tie_word_embeddings=True),
    # interleaved rotary, biases on every projection, GQA 4:1
    "ernie4_5": dict(architectures=["Ernie4_5ForCausalLM"], use_bias=True, num_key_value_heads=1, head_dim=16),
    # a sliding window shorter than the 32-token rows
    "mistral": dict(architectures=["MistralForCausalLM"], sliding_window=6),
    # (1 + w) norms, sandwich norms, GeLU, soft-capped scores and logits, alternating windows
    "gemma2": dict(architectures=["Gemma2ForCausalLM"], hidden_act="gelu_pytorch_tanh", head_dim=16,
                   query_pre_attn_scalar=24, sliding_window=6, tie_word_embeddings=True),
    # q/k norms, a local rotary base on the sliding layers, 2 sliding layers then a global one
    "gemma3_text": dict(architectures=["Gemma3ForCausalLM"], hidden_act="gelu_pytorch_tanh", num_hidden_layers=3,
                        head_dim=16, query_pre_attn_scalar=16, sliding_window=6, sliding_window_pattern=3,
                        rope_local_base_freq=10000.0, tie_word_embeddings=True),
}
CPU = torch.device("cpu")


def run_stopped(spec_path: str, step: int):
    stop = StopFlag()
    events = StopAfter(stop, step)
    finetune.run(read_finetune_spec(spec_path), events, stop)
    return events.events


@pytest.mark.parametrize("scale", ["FullFineTuning", "LoRA"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_trains_resumes_and_generates(tmp_path, family, scale):
    lora_run = scale == "LoRA"
    model_dir = make_model_dir(str(tmp_path / "model"), family, seed=11, initializer_range=0.2 if lora_run else 0.02,
                               **FAMILIES[family])
    data = make_data(str(tmp_path / "data"), "SFT", rows=24, seq_len=32)
    hyper = {"epoch": 3, "saveStep": 5, "checkpointCount": 2, "loraTargetModules": ALL_LINEAR}

    full = run_finetune(make_spec(str(tmp_path / "a.json"), model_dir, data, str(tmp_path / "a"), scale=scale, **hyper))
    losses = losses_of(full)
    steps = sorted(losses)
    assert steps == list(range(1, 19)) and full[-1]["event"] == "done"
    first, last = losses[1], sum(losses[s] for s in steps[-3:]) / 3
    print(f"{family} {scale}: loss {first:.3f} -> {last:.3f}")
    assert last < 0.9 * first

    stopped = run_stopped(make_spec(str(tmp_path / "b.json"), model_dir, data, str(tmp_path / "b"), scale=scale, **hyper), 7)
    assert stopped[-1]["event"] == "stopped"
    resumed = run_finetune(make_spec(str(tmp_path / "b.json"), model_dir, data, str(tmp_path / "b"), scale=scale,
                                     resumeFrom=stopped[-1]["checkpoint"], **hyper))
    both = {**losses_of(stopped), **losses_of(resumed)}
    assert sorted(both) == steps
    assert max(abs(losses[s] - both[s]) for s in steps) <= 1e-5

    checkpoint = full[-1]["outputs"]["lastCheckpoint"]
    if lora_run:
        model = load_model(model_dir, CPU, torch.float32)
        lora.load_adapter(model, checkpoint)
        model.eval()
    else:
        model = load_model(checkpoint, CPU, torch.float32)
    prompts = [[5, 9, 14, 3, 22, 7, 31, 8, 12], [40, 41], [17, 4, 99, 23]]
    cached = generate(model, prompts, Settings(max_new_tokens=12), [None] * 3)
    recomputed = generate(model, prompts, Settings(max_new_tokens=12), [None] * 3, use_cache=False)
    assert [g.ids for g in cached] == [g.ids for g in recomputed]
