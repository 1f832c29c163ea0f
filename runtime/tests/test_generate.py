"""Incremental decoding (KV cache, left padding) and the ``generate`` recipe.

The models are tiny random ones with ``initializer_range`` 0.2, so logits are peaked
(std ~30) and greedy decoding is far from ties: token-for-token equality between the
cached batch and each prompt recomputed alone is then a sharp test, not a lucky one.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from helpers import make_model_dir, start_runtime
from sailfin_runtime import generation
from sailfin_runtime.generation import Settings, generate, row_rng
from sailfin_runtime.models.decoder import CausalLM, ModelConfig
from sailfin_runtime.models.loading import load_model
from test_quant import finish

CPU = torch.device("cpu")
PROMPTS = [[17, 4, 99, 23, 180, 6, 7], [250], [31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43], [88, 12, 12]]


def peaked_model(model_type: str, seed: int = 0) -> CausalLM:
    from helpers import tiny_config

    return CausalLM(ModelConfig.from_dict(tiny_config(model_type, initializer_range=0.2))).init_weights(seed).eval()


@pytest.mark.parametrize("model_type", ["llama", "qwen2"])
def test_cached_steps_give_the_full_forward_logits(model_type):
    model = peaked_model(model_type)
    ids = torch.tensor([PROMPTS[2]])
    with torch.no_grad():
        full = model(ids)[0]
        cache, mask, steps = model.new_cache(), torch.ones(1, 0, dtype=torch.long), []
        for chunk in (ids[:, :5], ids[:, 5:6], ids[:, 6:]):  # a prefill, then one token, then the rest
            mask = torch.cat((mask, torch.ones_like(chunk)), dim=1)
            steps.append(model(chunk, attention_mask=mask, cache=cache)[0])
    assert cache.length == ids.shape[1]
    diff = float((torch.cat(steps) - full).abs().max())
    assert diff <= 1e-4 * float(full.abs().max()), diff


@pytest.mark.parametrize("model_type", ["llama", "qwen2"])
def test_left_padded_cached_batch_equals_each_prompt_recomputed_alone(model_type):
    model = peaked_model(model_type, seed=3)
    settings = Settings(max_new_tokens=10)
    batch = generate(model, PROMPTS, settings, [None] * len(PROMPTS))
    alone = [generate(model, [p], settings, [None], use_cache=False)[0] for p in PROMPTS]
    assert [g.ids for g in batch] == [g.ids for g in alone]
    assert all(len(g.ids) == 10 and g.finish_reason == "length" for g in batch)
    # Padding changes no row's logits either (a left-padded row vs the same prompt alone).
    with torch.no_grad():
        padded = torch.tensor([[0, 0, 0] + PROMPTS[3]])
        mask = torch.tensor([[0, 0, 0, 1, 1, 1]])
        assert torch.allclose(model(padded, attention_mask=mask)[0, 3:], model(torch.tensor([PROMPTS[3]]))[0], atol=1e-4)


def test_finished_rows_leave_the_batch_and_the_others_continue_unchanged():
    model = peaked_model("llama", seed=4)
    free = [g.ids for g in generate(model, PROMPTS, Settings(max_new_tokens=12), [None] * 4)]
    eos = free[1][2]  # ends prompt 1 early (and any other row that emits it)
    stop = tuple(free[2][4:6])
    settings = Settings(max_new_tokens=12, eos_token_ids=(eos,), stop_sequences=(stop,))
    got = generate(model, PROMPTS, settings, [None] * 4)
    for row, g in zip(free, got):
        expected, reason = truncate(row, (eos,), [stop])
        assert g.ids == expected and g.finish_reason == reason
    assert got[1].finish_reason == "stop" and len(got[1].ids) <= 3


def truncate(ids, eos, stops):
    """The oracle: an unconstrained greedy output cut where the first stop condition holds."""
    for n in range(1, len(ids) + 1):
        head = ids[:n]
        if head[-1] in eos or any(len(head) >= len(s) and tuple(head[-len(s):]) == tuple(s) for s in stops):
            return head, "stop"
    return ids, "length"


def test_repetition_penalty_and_sampling_filters():
    logits = torch.tensor([[2.0, -1.0, 0.5, 3.0]])
    seen = torch.tensor([[True, True, False, False]])
    out = generation.apply_repetition_penalty(logits, seen, 2.0)
    assert out.tolist() == [[1.0, -2.0, 0.5, 3.0]]
    probs = generation.sampling_probs(logits, temperature=1.0, top_k=2, top_p=1.0)
    assert (probs > 0).tolist() == [[True, False, False, True]]
    probs = generation.sampling_probs(logits, temperature=1.0, top_k=0, top_p=0.5)
    assert (probs > 0).tolist() == [[False, False, False, True]]  # the top token alone holds > 0.5
    # Draws follow the filtered distribution (inverse CDF on each row's own stream).
    settings = Settings(max_new_tokens=1, do_sample=True, temperature=1.0)
    rngs = [row_rng(7, i) for i in range(4000)]
    draws = generation.pick_tokens(logits.expand(4000, 4), None, settings, rngs)
    expected = torch.softmax(logits[0].double(), -1)
    frequency = torch.bincount(draws, minlength=4).double() / 4000
    assert float((frequency - expected).abs().max()) < 0.03


# ------------------------------------------------------------------ the recipe as the worker runs it


def write_prompts(path, prompts):
    with open(path, "w") as f:
        for i, ids in enumerate(prompts):
            f.write(json.dumps({"id": f"p{i}", "ids": ids}) + "\n")
    return path


def run_generate(tmp_path, name, model_dir, prompts_file, **fields):
    spec = {"version": 1, "modelDir": model_dir, "promptsFile": prompts_file,
            "outputFile": str(tmp_path / f"{name}.jsonl"), "maxNewTokens": 8, "batchSize": 3, "device": "cpu",
            "dtype": "float32", **fields}
    path = str(tmp_path / f"{name}.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    code, events, err = finish(start_runtime(["generate", "--spec", path]))
    assert code == 0, err
    with open(spec["outputFile"]) as f:
        return [json.loads(line) for line in f], events


def test_generate_process_stops_on_eos_and_stop_sequences_and_respects_max_new_tokens(tmp_path):
    model_dir = make_model_dir(str(tmp_path / "model"), initializer_range=0.2, seed=5)
    prompts_file = write_prompts(str(tmp_path / "prompts.jsonl"), PROMPTS)
    model = load_model(model_dir, CPU, torch.float32)
    free = [generate(model, [p], Settings(max_new_tokens=8), [None], use_cache=False)[0].ids for p in PROMPTS]
    eos, stop = free[0][3], free[2][1:3]
    rows, events = run_generate(tmp_path, "greedy", model_dir, prompts_file, eosTokenIds=[eos], stopSequences=[stop])
    assert [r["id"] for r in rows] == ["p0", "p1", "p2", "p3"]  # file order, though batched by length
    assert [r["promptTokens"] for r in rows] == [len(p) for p in PROMPTS]
    for row, ids in zip(rows, free):
        expected, reason = truncate(ids, (eos,), [stop])
        assert row["ids"] == expected and row["finishReason"] == reason
    assert rows[0]["finishReason"] == "stop" and rows[0]["ids"][-1] == eos  # the stop tokens stay
    assert rows[2]["finishReason"] == "stop" and rows[2]["ids"][-2:] == stop
    assert any(r["finishReason"] == "length" and len(r["ids"]) == 8 for r in rows) or all(
        r["finishReason"] == "stop" for r in rows)
    progress = [e for e in events if e["event"] == "progress"]
    assert [(e["done"], e["total"]) for e in progress] == [(3, 4), (4, 4)]
    done = events[-1]
    assert done["event"] == "done" and done["outputs"]["outputFile"] == str(tmp_path / "greedy.jsonl")
    assert done["outputs"]["generatedTokens"] == sum(len(r["ids"]) for r in rows)
    assert done["outputs"]["tokensPerSecond"] > 0 and done["outputs"]["seconds"] > 0


def test_generate_process_sampling_is_reproducible_and_penalty_changes_output(tmp_path):
    model_dir = make_model_dir(str(tmp_path / "model"), initializer_range=0.2, seed=6)
    prompts_file = write_prompts(str(tmp_path / "prompts.jsonl"), PROMPTS)
    sample = {"doSample": True, "temperature": 5.0, "topK": 50, "topP": 0.95, "seed": 11, "eosTokenIds": []}
    first, _ = run_generate(tmp_path, "s1", model_dir, prompts_file, **sample)
    again, _ = run_generate(tmp_path, "s2", model_dir, prompts_file, **sample)
    assert first == again
    greedy, _ = run_generate(tmp_path, "g", model_dir, prompts_file, eosTokenIds=[], maxNewTokens=16)
    assert [r["ids"] for r in first] != [r["ids"][:8] for r in greedy]
    penalized, _ = run_generate(tmp_path, "p", model_dir, prompts_file, eosTokenIds=[], maxNewTokens=16,
                                repetitionPenalty=3.0)
    assert [r["ids"] for r in penalized] != [r["ids"] for r in greedy]
    # The penalty discourages repeats: fewer repeated tokens over all outputs.
    repeats = lambda rows: sum(len(r["ids"]) - len(set(r["ids"])) for r in rows)  # noqa: E731
    assert repeats(penalized) < repeats(greedy)

    # Another seed samples differently; a prompt's draws do not depend on its batch.
    model = load_model(model_dir, CPU, torch.float32)
    settings = Settings(max_new_tokens=8, do_sample=True, temperature=5.0, top_k=50, top_p=0.95)
    alone = [generate(model, [p], settings, [row_rng(11, i)])[0].ids for i, p in enumerate(PROMPTS)]
    assert alone == [r["ids"] for r in first]
    other = [generate(model, [p], settings, [row_rng(12, i)])[0].ids for i, p in enumerate(PROMPTS)]
    assert other != alone


def test_bad_generate_specs_name_the_field(tmp_path):
    model_dir = make_model_dir(str(tmp_path / "model"))
    prompts_file = write_prompts(str(tmp_path / "prompts.jsonl"), PROMPTS)
    base = {"version": 1, "modelDir": model_dir, "promptsFile": prompts_file, "outputFile": str(tmp_path / "o.jsonl")}
    cases = [({"maxNewTokens": 0}, "maxNewTokens"), ({"temperature": 0}, "temperature"), ({"topP": 1.5}, "topP"),
             ({"stopSequences": [[1, 2], []]}, "stopSequences[1]"), ({"eosTokenIds": [-1]}, "eosTokenIds"),
             ({"doSample": "yes"}, "doSample"), ({"dtype": "int8"}, "dtype"), ({"promptsFile": "rel.jsonl"}, "promptsFile"),
             ({"outputFile": None}, "outputFile")]
    for extra, field in cases:
        path = str(tmp_path / "bad.json")
        with open(path, "w") as f:
            json.dump({**base, **extra}, f)
        code, events, _ = finish(start_runtime(["generate", "--spec", path]))
        assert code == 2 and events[-1]["kind"] == "user" and events[-1]["message"].startswith(f"{field}:"), (extra, events)
    # Problems found after the spec (prompt contents, vocabulary) are user errors too.
    bad_prompts = str(tmp_path / "bad-prompts.jsonl")
    with open(bad_prompts, "w") as f:
        f.write('{"id": "a", "ids": [1, 2]}\n{"id": "b", "ids": [5, 300]}\n')
    path = str(tmp_path / "bad.json")
    with open(path, "w") as f:
        json.dump({**base, "promptsFile": bad_prompts, "device": "cpu"}, f)
    code, events, _ = finish(start_runtime(["generate", "--spec", path]))
    assert code == 2 and "outside the model's vocabulary" in events[-1]["message"] and "'b'" in events[-1]["message"]
    assert not os.path.exists(base["outputFile"])


def test_stop_flag_ends_generation_between_batches_without_an_output_file(tmp_path):
    from sailfin_runtime.protocol import EventSink, StopFlag
    from sailfin_runtime.recipes import generate as recipe
    from sailfin_runtime.spec import read_generate_spec

    model_dir = make_model_dir(str(tmp_path / "model"))
    prompts_file = write_prompts(str(tmp_path / "prompts.jsonl"), PROMPTS)
    path = str(tmp_path / "spec.json")
    with open(path, "w") as f:
        json.dump({"version": 1, "modelDir": model_dir, "promptsFile": prompts_file, "outputFile": str(tmp_path / "o.jsonl"),
                   "maxNewTokens": 4, "batchSize": 1, "device": "cpu"}, f)
    stop = StopFlag()

    class StopAfterFirstBatch(EventSink):
        def emit(self, event, **fields):
            stop.requested = stop.requested or event == "progress"
            return super().emit(event, **fields)

    sink = StopAfterFirstBatch(stream=open(os.devnull, "w"), keep=True)
    recipe.run(read_generate_spec(path), sink, stop)
    assert [e["event"] for e in sink.events] == ["progress", "stopped"]
    assert sink.events[-1]["done"] == 1 and sink.events[-1]["total"] == 4
    assert not os.path.exists(str(tmp_path / "o.jsonl"))
