"""Python and TypeScript agree on the runtime protocol (docs/runtime-protocol.md).

The JSON Schema files in ``sailfin_runtime/schema/`` are generated from the TypeScript contract
(``packages/contract/src/runtime/``; a node test keeps them current). These tests fail when the
Python side disagrees with them: a spec field one side has and the other does not read, a
default or a range that differs, an event or output line the schema does not describe.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

from helpers import make_data, make_model_dir, make_spec, run_export, run_finetune
from protocol_schema import errors, event_errors
from sailfin_runtime import spec as spec_module
from sailfin_runtime.__main__ import RECIPES
from sailfin_runtime.protocol import EventSink, StopFlag, UserError, run_guarded
from sailfin_runtime.spec import (
    Hyper, hyper_applies, hyper_default, hyper_properties, read_export_spec, read_finetune_spec, read_generate_spec,
    read_prompts, read_quantize_spec, read_serve_spec, schema,
)

READERS = {
    "finetune": read_finetune_spec,
    "export": read_export_spec,
    "quantize": read_quantize_spec,
    "generate": read_generate_spec,
    "serve": read_serve_spec,
}
# Runs that together read every hyper-parameter (LoRA keys, dpoBeta, ktoBeta).
HYPER_RUNS = [("SFT", "LoRA"), ("DPO", "FullFineTuning"), ("KTO", "FullFineTuning"), ("PostPretrain", "FullFineTuning")]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Dict[str, Any]:
    """A model folder, training data, a prompts file and a checkpoint-shaped folder."""
    root = tmp_path_factory.mktemp("protocol")
    prompts = root / "prompts.jsonl"
    prompts.write_text('{"id": "a", "ids": [1, 2, 3]}\n')
    checkpoint = root / "checkpoint"
    checkpoint.mkdir()
    return {
        "root": str(root),
        "model": make_model_dir(str(root / "model")),
        "data": {mode: make_data(str(root / f"data-{mode}"), mode, rows=8) for mode in ("SFT", "DPO", "KTO")},
        "prompts": str(prompts),
        "checkpoint": str(checkpoint),
    }


def full_spec(world: Dict[str, Any], recipe: str, mode: str = "SFT", scale: str = "LoRA") -> Dict[str, Any]:
    """A valid spec of the recipe with every field the schema declares present."""
    root, model = world["root"], world["model"]
    if recipe == "finetune":
        hyper = {key: hyper_default(prop, scale) for key, prop in hyper_properties().items()}
        return {"version": 1, "runId": "run-x", "trainMode": mode, "parameterScale": scale, "modelDir": model,
                "initCheckpoint": None, "data": dict(world["data"][mode if mode in ("DPO", "KTO") else "SFT"]),
                "outputDir": os.path.join(root, "out"), "resumeFrom": None, "hyper": hyper, "device": "cpu",
                "precision": "fp32"}
    if recipe == "export":
        return {"version": 1, "modelDir": model, "checkpoint": world["checkpoint"], "outputDir": os.path.join(root, "exp")}
    if recipe == "quantize":
        return {"version": 1, "modelDir": model, "outputDir": os.path.join(root, "q"), "bits": 8, "groupSize": 128,
                "scheme": "W8A16C16", "evalSplit": world["data"]["SFT"]["validation"], "evalMaxRows": 64, "device": "cpu"}
    if recipe == "serve":
        key = os.path.join(root, "key")
        with open(key, "w") as f:
            f.write("secret")
        return {"version": 1, "modelDir": model, "servedModelName": "m", "host": "127.0.0.1", "port": 0, "apiKeyFile": key,
                "device": "cpu", "dtype": "auto", "maxBatchSize": 4, "maxModelLen": 64}
    return {"version": 1, "modelDir": model, "promptsFile": world["prompts"], "outputFile": os.path.join(root, "o.jsonl"),
            "maxNewTokens": 8, "doSample": False, "temperature": 1.0, "topP": 1.0, "topK": 0, "repetitionPenalty": 1.0,
            "eosTokenIds": [2], "stopSequences": [[3, 4]], "batchSize": 8, "seed": 0, "device": "cpu", "dtype": "auto"}


def write(world: Dict[str, Any], spec: Dict[str, Any]) -> str:
    path = os.path.join(world["root"], "spec.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


# ------------------------------------------------------------------------------------------------
# Every field in both: the reader reads exactly the schema's properties


class Recording(dict):
    """A JSON object that notes every key read from it (``data.train``, ``hyper.epoch``)."""

    def __init__(self, data: Dict[str, Any], seen: Set[str], prefix: str = ""):
        super().__init__({k: Recording(v, seen, f"{prefix}{k}.") if isinstance(v, dict) else v for k, v in data.items()})
        self.seen, self.prefix = seen, prefix

    def get(self, key, default=None):
        self.seen.add(self.prefix + key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.seen.add(self.prefix + key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.seen.add(self.prefix + key)
        return super().__contains__(key)


def recording_json(seen: Set[str]) -> types.SimpleNamespace:
    """The ``json`` module as the reader sees it, with objects that record their reads."""
    def wrap(value):
        return Recording(value, seen) if isinstance(value, dict) else value
    return types.SimpleNamespace(load=lambda f: wrap(json.load(f)), loads=lambda s: wrap(json.loads(s)), dumps=json.dumps)


def schema_paths(node: Dict[str, Any], prefix: str = "") -> Set[str]:
    out = set()
    for key, prop in node.get("properties", {}).items():
        out.add(prefix + key)
        if prop.get("type") == "object":
            out |= schema_paths(prop, f"{prefix}{key}.")
    return out


def reads(monkeypatch, world, recipe: str, runs: List[Tuple[str, str]]) -> Set[str]:
    for name in (f"{r}.spec" for r in RECIPES):
        schema(name)  # loaded before json is swapped
    seen: Set[str] = set()
    monkeypatch.setattr(spec_module, "json", recording_json(seen))
    for mode, scale in runs:
        READERS[recipe](write(world, full_spec(world, recipe, mode, scale)))
    monkeypatch.undo()
    return seen


def test_every_recipe_has_a_spec_schema():
    assert set(READERS) == set(RECIPES)
    for recipe in RECIPES:
        assert schema(f"{recipe}.spec")["type"] == "object"


@pytest.mark.parametrize("recipe", RECIPES)
def test_the_reader_reads_exactly_the_fields_of_the_schema(monkeypatch, world, recipe):
    runs = HYPER_RUNS if recipe == "finetune" else [("SFT", "LoRA")]
    seen = reads(monkeypatch, world, recipe, runs)
    declared = schema_paths(schema(f"{recipe}.spec"))
    assert seen - declared == set(), f"read by spec.py but not in the TypeScript schema: {sorted(seen - declared)}"
    assert declared - seen == set(), f"in the TypeScript schema but never read by spec.py: {sorted(declared - seen)}"


def test_the_prompt_reader_reads_exactly_the_prompt_line_schema(monkeypatch, world):
    seen: Set[str] = set()
    monkeypatch.setattr(spec_module, "json", recording_json(seen))
    read_prompts(world["prompts"])
    monkeypatch.undo()
    assert seen == schema_paths(schema("generate.prompt"))


def test_hyper_has_one_field_per_schema_property():
    assert [f.name for f in dataclasses.fields(Hyper)] and {f.name for f in dataclasses.fields(Hyper)} == set(hyper_properties())


# ------------------------------------------------------------------------------------------------
# Defaults


def minimal(spec: Dict[str, Any], node: Dict[str, Any]) -> Dict[str, Any]:
    """Only the fields the schema requires (objects recursively)."""
    out = {}
    for key in node.get("required", []):
        value = spec[key]
        out[key] = minimal(value, node["properties"][key]) if node["properties"][key].get("type") == "object" else value
    return out


SPEC_FIELD = {"data.validation": "validationData"}  # the reader's name where it is not the schema's


@pytest.mark.parametrize("recipe", RECIPES)
def test_absent_fields_take_the_schema_default(world, recipe):
    node = schema(f"{recipe}.spec")
    parsed = READERS[recipe](write(world, minimal(full_spec(world, recipe, scale="FullFineTuning"), node)))
    checked = 0
    for key, prop in node["properties"].items():
        if "default" in prop:
            assert getattr(parsed, key) == prop["default"] or (prop["default"] == [] and getattr(parsed, key) == ()), key
            checked += 1
        elif "anyOf" in prop:  # nullable, no default: absent means null
            assert getattr(parsed, SPEC_FIELD.get(key, key)) is None, key
    assert recipe == "export" or checked > 0


@pytest.mark.parametrize("mode,scale", HYPER_RUNS + [("SFT", "FullFineTuning")])
def test_absent_hyper_parameters_take_the_schema_default_of_the_scale(world, mode, scale):
    spec = full_spec(world, "finetune", mode, scale)
    spec["hyper"] = {}
    hyper = read_finetune_spec(write(world, spec)).hyper
    for key, prop in hyper_properties().items():
        assert getattr(hyper, key) == hyper_default(prop, scale), key
    expected = {"LoRA": 3e-4, "FullFineTuning": 3e-5}[scale]  # the learning rate the API table shows
    assert hyper.learningRate == expected


# ------------------------------------------------------------------------------------------------
# Ranges and choices: boundaries accepted and rejected as the schema says


def cases(prop: Dict[str, Any]) -> Iterator[Tuple[Any, bool]]:
    """(value, accepted?) pairs at the edges the property declares."""
    kind = prop.get("type")
    if "const" in prop:
        yield prop["const"], True
        yield prop["const"] + 1, False
    elif "enum" in prop:
        for choice in prop["enum"]:
            yield choice, True
        yield (16 if kind == "number" else "not-a-choice"), False
    elif kind in ("integer", "number"):
        step = 1 if kind == "integer" else 1e-6
        if "minimum" in prop:
            yield prop["minimum"], True
            yield prop["minimum"] - step, False
        if "exclusiveMinimum" in prop:
            yield prop["exclusiveMinimum"], False
            yield prop["exclusiveMinimum"] + step, True
        if "maximum" in prop:
            yield prop["maximum"], True
            yield prop["maximum"] + step, False
        if kind == "integer":
            yield prop.get("minimum", 0) + 1.5, False
        yield "1", False
    elif kind == "boolean":
        yield True, True
        yield False, True
        yield "yes", False
    elif kind == "array" and "enum" in prop.get("items", {}):
        for choice in prop["items"]["enum"]:
            yield [choice], True
        yield [], prop.get("minItems", 0) == 0
        yield ["not-a-choice"], False


def boundary_cases() -> Iterator[Tuple[str, str, str, str, Any, bool]]:
    """(recipe, mode, scale, dotted field, value, accepted?) over every checkable property."""
    for recipe in RECIPES:
        for key, prop in schema(f"{recipe}.spec")["properties"].items():
            if key != "hyper":
                for value, ok in cases(prop):
                    yield recipe, "SFT", "LoRA", key, value, ok
    for key, prop in hyper_properties().items():
        mode = prop.get("x-trainModes", ["SFT"])[0]
        scale = prop.get("x-parameterScales", ["FullFineTuning"])[0]
        for value, ok in cases(prop):
            yield "finetune", mode, scale, f"hyper.{key}", value, ok


@pytest.mark.parametrize("recipe,mode,scale,field,value,accepted", list(boundary_cases()))
def test_boundaries_are_accepted_and_rejected_as_the_schema_says(world, recipe, mode, scale, field, value, accepted):
    spec = full_spec(world, recipe, mode, scale)
    target, leaf = (spec["hyper"], field[len("hyper."):]) if field.startswith("hyper.") else (spec, field)
    target[leaf] = value
    if recipe == "quantize":  # the scheme must agree with the bits (a rule no schema states)
        if field == "scheme":
            spec["bits"] = 4 if value == "W4A16C16" else 8
        if field == "bits":
            spec.pop("scheme")
    path = write(world, spec)
    if accepted:
        READERS[recipe](path)
    else:
        with pytest.raises(UserError) as info:
            READERS[recipe](path)
        assert str(info.value).startswith(f"{field}:"), str(info.value)


# ------------------------------------------------------------------------------------------------
# What the runtime writes: events and answer lines


@pytest.fixture(scope="module")
def emitted(tmp_path_factory) -> Dict[str, List[dict]]:
    """The events of a run of every recipe, a stopped run, and both kinds of error."""
    from sailfin_runtime.recipes import generate
    from test_quant import quantize_in_process

    root = str(tmp_path_factory.mktemp("emitted"))
    model = make_model_dir(os.path.join(root, "model"))
    data = make_data(os.path.join(root, "data"), "SFT", rows=8)
    out = {"finetune": run_finetune(make_spec(os.path.join(root, "ft.json"), model, data, os.path.join(root, "ft"), saveStep=1))}
    checkpoint = out["finetune"][-1]["outputs"]["lastCheckpoint"]
    out["export"] = run_export({"modelDir": model, "checkpoint": checkpoint, "outputDir": os.path.join(root, "exp")}, root)
    out["quantize"], _ = quantize_in_process(root, model, 8, evalSplit=data["validation"])
    prompts = os.path.join(root, "prompts.jsonl")
    with open(prompts, "w") as f:
        f.write('{"id": "a", "ids": [5, 6, 7]}\n{"id": "b", "ids": [9]}\n')
    gen_spec = os.path.join(root, "gen.json")
    with open(gen_spec, "w") as f:
        json.dump({"version": 1, "modelDir": model, "promptsFile": prompts, "outputFile": os.path.join(root, "answers.jsonl"),
                   "maxNewTokens": 4, "device": "cpu"}, f)
    sink = EventSink(stream=open(os.devnull, "w"), keep=True)
    generate.run(read_generate_spec(gen_spec), sink, StopFlag())
    out["generate"] = sink.events
    out["serve"] = serve_until_ready_then_stop(model)
    stop = StopFlag()
    stop.requested = True
    sink = EventSink(stream=open(os.devnull, "w"), keep=True)
    from sailfin_runtime.recipes import finetune
    finetune.run(read_finetune_spec(make_spec(os.path.join(root, "st.json"), model, data, os.path.join(root, "st"))), sink, stop)
    out["stopped"] = sink.events
    sink = EventSink(stream=open(os.devnull, "w"), keep=True)

    def user_error():
        raise UserError("bad", "hyper.epoch")

    def crash():
        raise RuntimeError("boom")

    run_guarded(sink, user_error, lambda e: False)
    run_guarded(sink, crash, lambda e: False)
    out["errors"] = sink.events
    out["answers"] = [json.loads(line) for line in open(os.path.join(root, "answers.jsonl"))]
    return out


def serve_until_ready_then_stop(model: str) -> List[dict]:
    """The serve recipe's events in-process: ``ready``, then ``stopped`` once the flag is set."""
    import threading
    import time

    from sailfin_runtime.recipes import serve
    from sailfin_runtime.spec import serve_spec_from

    sink, stop = EventSink(stream=open(os.devnull, "w"), keep=True), StopFlag()
    spec = serve_spec_from({"version": 1, "modelDir": model, "servedModelName": "m", "device": "cpu"})
    thread = threading.Thread(target=serve.run, args=(spec, sink, stop))
    thread.start()
    deadline = time.monotonic() + 60
    while not sink.events and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.requested = True
    thread.join(timeout=60)
    return sink.events


def test_every_event_the_recipes_emit_follows_the_schema_and_every_variant_is_emitted(emitted):
    events = [e for name, batch in emitted.items() if name != "answers" for e in batch]
    problems = [(e["event"], p) for e in events for p in event_errors(e)]
    assert problems == []
    variants = {v["properties"]["event"]["const"] for v in schema("events")["oneOf"]}
    assert {e["event"] for e in events} == variants
    assert {e["kind"] for e in emitted["errors"]} == {"user", "system"}
    progress = [e for e in events if e["event"] == "progress"]
    assert any("step" in e for e in progress) and any("done" in e for e in progress)


def test_each_recipes_done_outputs_match_one_branch_of_their_own(emitted):
    done = next(v for v in schema("events")["oneOf"] if v["properties"]["event"]["const"] == "done")
    branches = done["properties"]["outputs"]["anyOf"]
    matched = []
    for recipe in (r for r in RECIPES if r != "serve"):  # serve runs until stopped: no done
        outputs = emitted[recipe][-1]["outputs"]
        fits = [i for i, branch in enumerate(branches) if not errors(branch, outputs)]
        assert len(fits) == 1, (recipe, outputs, fits)
        matched.append(fits[0])
    assert sorted(matched) == list(range(len(branches)))


def test_answer_lines_follow_the_schema(emitted):
    assert len(emitted["answers"]) == 2
    for line in emitted["answers"]:
        assert errors(schema("generate.answer"), line) == []


def test_the_validator_catches_what_it_should():
    started = {"event": "started", "time": 1.0, "totalSteps": 3, "trainRows": 8, "trainedTokensPerEpoch": 10, "device": "cpu",
               "precision": "fp32", "torch": "1.13", "parameters": 10, "trainableParameters": 10, "resumedFromStep": 0}
    assert event_errors(started) == []
    assert event_errors({**started, "extra": 1}) != []  # an undeclared field
    assert event_errors({k: v for k, v in started.items() if k != "torch"}) != []
    assert event_errors({**started, "totalSteps": 1.5}) != []
    assert event_errors({"event": "unheard-of", "time": 1.0}) != []
