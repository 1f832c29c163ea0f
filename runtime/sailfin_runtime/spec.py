"""Read and validate spec.json (docs/runtime-protocol.md), naming the field at fault.

Every check happens here, before torch is imported, so a bad spec costs
milliseconds and reports every problem with the exact field path. Field names,
types, ranges, choices and defaults come from the protocol's JSON Schema files
(``schema/*.json``, generated from the TypeScript contract: the source of truth),
so the two sides cannot drift apart; only what a schema cannot say (paths exist,
``scheme`` agrees with ``bits``) is written here.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Tuple

from .protocol import UserError

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema")
_SCHEMAS: Dict[str, Dict[str, Any]] = {}


def schema(name: str) -> Dict[str, Any]:
    """A protocol JSON Schema by file name without ``.json`` (e.g. ``finetune.spec``), read once."""
    if name not in _SCHEMAS:
        with open(os.path.join(SCHEMA_DIR, f"{name}.json"), encoding="utf-8") as f:
            _SCHEMAS[name] = json.load(f)
    return _SCHEMAS[name]


def _properties(name: str) -> Dict[str, Dict[str, Any]]:
    return schema(name)["properties"]


def hyper_properties() -> Dict[str, Dict[str, Any]]:
    """The ``hyper`` object's properties: type, range, default (or ``x-defaultByScale``), applicability."""
    return _properties("finetune.spec")["hyper"]["properties"]


def hyper_applies(prop: Dict[str, Any], train_mode: str, scale: str) -> bool:
    """Whether a hyper-parameter is read for runs of this train mode and parameter scale."""
    return scale in prop.get("x-parameterScales", [scale]) and train_mode in prop.get("x-trainModes", [train_mode])


def hyper_default(prop: Dict[str, Any], scale: str) -> Any:
    """A hyper-parameter's default for runs of this parameter scale."""
    return prop["x-defaultByScale"][scale] if "x-defaultByScale" in prop else prop["default"]


@dataclass(frozen=True)
class Hyper:
    """Training hyper-parameters (``spec.hyper``); the schema's ``hyper`` properties, one field each."""

    epoch: int
    learningRate: float
    batchSize: int
    gradientAccumulationSteps: int
    warmupRatio: float
    weightDecay: float
    schedulerName: str
    maxGradNorm: float
    loggingSteps: int
    saveStep: int
    checkpointCount: int
    seed: int
    loraRank: int
    loraAlpha: float
    loraDropout: float
    loraTargetModules: List[str]
    loraBaseQuantization: str
    dpoBeta: float
    ktoBeta: float
    gradientCheckpointing: bool


@dataclass(frozen=True)
class FinetuneSpec:
    """A validated ``finetune`` spec."""

    runId: str
    trainMode: str
    parameterScale: str
    modelDir: str
    trainData: str
    validationData: Optional[str]
    outputDir: str
    hyper: Hyper
    initCheckpoint: Optional[str]
    resumeFrom: Optional[str]
    device: str
    precision: str

    @property
    def lora(self) -> bool:
        return self.parameterScale == "LoRA"

    @property
    def preference(self) -> bool:
        return self.trainMode in ("DPO", "KTO")

    def digest(self, train_hash: str, validation_hash: Optional[str]) -> str:
        """A hash of everything that decides the losses: a checkpoint only resumes the same run.

        Data is identified by the manifests' ``contentHash``, not by paths, so a cache
        folder that moved still resumes.
        """
        # Logging and checkpoint cadence do not change the losses: a resumed attempt may differ there.
        hyper = {k: v for k, v in asdict(self.hyper).items() if k not in ("loggingSteps", "saveStep", "checkpointCount")}
        if hyper["loraBaseQuantization"] == "None":  # added later: checkpoints of runs without it still resume
            del hyper["loraBaseQuantization"]
        payload = {
            "trainMode": self.trainMode,
            "parameterScale": self.parameterScale,
            "hyper": hyper,
            "train": train_hash,
            "validation": validation_hash,
            "initCheckpoint": self.initCheckpoint,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class ExportSpec:
    """A validated ``export`` spec."""

    modelDir: str
    checkpoint: str
    outputDir: str


@dataclass(frozen=True)
class QuantizeSpec:
    """A validated ``quantize`` spec (``groupSize`` is used by 4 bits only)."""

    modelDir: str
    outputDir: str
    bits: int
    groupSize: int
    scheme: str
    evalSplit: Optional[str]
    evalMaxRows: int
    device: str


@dataclass(frozen=True)
class GenerateSpec:
    """A validated ``generate`` spec. ``eosTokenIds`` None: the model's ``eos_token_id``."""

    modelDir: str
    promptsFile: str
    outputFile: str
    maxNewTokens: int
    doSample: bool
    temperature: float
    topP: float
    topK: int
    repetitionPenalty: float
    eosTokenIds: Optional[Tuple[int, ...]]
    stopSequences: Tuple[Tuple[int, ...], ...]
    batchSize: int
    seed: int
    device: str
    dtype: str


@dataclass(frozen=True)
class ServeSpec:
    """A validated ``serve`` spec. ``apiKeyFile`` None: no auth; ``maxModelLen`` None: the config's."""

    modelDir: str
    servedModelName: str
    host: str
    port: int
    apiKeyFile: Optional[str]
    device: str
    dtype: str
    maxBatchSize: int
    maxModelLen: Optional[int]


@dataclass(frozen=True)
class Prompt:
    """One line of a ``generate`` prompts file."""

    id: str
    ids: List[int]


def _load_json(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise UserError(f"spec file not found: {path}", "--spec") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"spec is not valid JSON: {exc}", "--spec") from None
    if not isinstance(data, dict):
        raise UserError("spec must be a JSON object", "--spec")
    if data.get("version") != 1:
        raise UserError(f"unsupported spec version {data.get('version')!r} (this runtime reads version 1)", "version")
    return data


def _required(name: str) -> List[str]:
    return schema(name).get("required", [])


def _string(obj: Dict[str, Any], key: str, name: str, choices: Optional[List[str]] = None, default: Any = ...) -> Any:
    if key not in obj or obj[key] is None:
        if default is ...:
            raise UserError("is required", name)
        return default
    value = obj[key]
    if not isinstance(value, str) or not value:
        raise UserError(f"must be a non-empty string, got {value!r}", name)
    if choices is not None and value not in choices:
        raise UserError(f"must be one of {', '.join(choices)}, got {value!r}", name)
    return value


def _text(obj: Dict[str, Any], key: str, prop: Dict[str, Any], name: Optional[str] = None) -> Any:
    """A string field as its schema property says: choices (``enum``) and default (required without one)."""
    return _string(obj, key, name or key, prop.get("enum"), prop.get("default", ...))


def _directory(obj: Dict[str, Any], key: str, name: str, required: bool = True, must_exist: bool = True) -> Optional[str]:
    value = _string(obj, key, name, default=... if required else None)
    if value is None:
        return None
    if not os.path.isabs(value):
        raise UserError(f"must be an absolute path, got {value!r}", name)
    if must_exist and not os.path.isdir(value):
        raise UserError(f"folder does not exist: {value}", name)
    return os.path.normpath(value)


def _number(obj: Dict[str, Any], key: str, prop: Dict[str, Any], default: Any = ..., name: Optional[str] = None) -> Any:
    """A number as its schema property says: ``integer`` or ``number``, ``minimum`` or
    ``exclusiveMinimum``, ``maximum``; absent or null takes ``default`` (the property's when not given)."""
    name = name or key
    if default is ...:
        default = prop["default"]
    value = obj.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"must be a number, got {value!r}", name)
    if prop["type"] == "integer":
        if float(value) != int(value):
            raise UserError(f"must be an integer, got {value!r}", name)
        value = int(value)
    else:
        value = float(value)
    exclusive_min = "exclusiveMinimum" in prop
    minimum = prop["exclusiveMinimum"] if exclusive_min else prop.get("minimum", float("-inf"))
    maximum = prop.get("maximum", float("inf"))
    too_small = value <= minimum if exclusive_min else value < minimum
    if too_small or value > maximum or value != value:
        bound = f"> {minimum}" if exclusive_min else f">= {minimum}"
        raise UserError(f"must be {bound} and <= {maximum}, got {value!r}", name)
    return value


def _bool(obj: Dict[str, Any], key: str, default: bool, name: Optional[str] = None) -> bool:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise UserError(f"must be true or false, got {value!r}", name or key)
    return value


def _names(obj: Dict[str, Any], key: str, prop: Dict[str, Any], default: List[str], name: str) -> List[str]:
    """A non-empty list of names out of the property's ``items.enum`` (LoRA's target modules)."""
    value = obj.get(key, default)
    if value is None:
        value = default
    if not isinstance(value, list) or not value or not all(isinstance(t, str) for t in value):
        raise UserError(f"must be a non-empty list of module names, got {value!r}", name)
    allowed = prop["items"]["enum"]
    unknown = [t for t in value if t not in allowed]
    if unknown:
        raise UserError(f"unknown module(s) {unknown}; choose from {', '.join(allowed)}", name)
    return list(value)


def _hyper_value(raw: Dict[str, Any], key: str, prop: Dict[str, Any], default: Any) -> Any:
    name = f"hyper.{key}"
    kind = prop["type"]
    if kind in ("integer", "number"):
        return _number(raw, key, prop, default, name)
    if kind == "boolean":
        return _bool(raw, key, default, name)
    if kind == "array":
        return _names(raw, key, prop, default, name)
    return _string(raw, key, name, prop.get("enum"), default)


def _hyper(raw: Any, train_mode: str, scale: str) -> Hyper:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError("must be an object", "hyper")
    values = {}
    for key, prop in hyper_properties().items():
        # A key that does not apply to this run (loraRank of a full fine-tuning) is not read: its default stands.
        source = raw if hyper_applies(prop, train_mode, scale) else {}
        values[key] = _hyper_value(source, key, prop, hyper_default(prop, scale))
    # Qianfan's range starts at 0; 0 and 1 both mean "no accumulation".
    values["gradientAccumulationSteps"] = max(1, values["gradientAccumulationSteps"])
    return Hyper(**values)


def read_finetune_spec(path: str) -> FinetuneSpec:
    """Read and validate a ``finetune`` spec.

    Raises:
        UserError: naming the first field at fault.
    """
    raw = _load_json(path)
    props = _properties("finetune.spec")
    train_mode = _text(raw, "trainMode", props["trainMode"])
    if raw.get("parameterScale") == "PromptTuning":
        raise UserError("PromptTuning is not supported by this runtime; use FullFineTuning or LoRA", "parameterScale")
    scale = _text(raw, "parameterScale", props["parameterScale"])
    data = raw.get("data")
    if not isinstance(data, dict):
        raise UserError("must be an object with train (and optional validation) folders", "data")
    data_required = props["data"]["required"]
    model_dir = _model_dir(raw)
    output_dir = _directory(raw, "outputDir", "outputDir", must_exist=False)
    required = _required("finetune.spec")
    return FinetuneSpec(
        runId=_text(raw, "runId", props["runId"]),
        trainMode=train_mode,
        parameterScale=scale,
        modelDir=model_dir,
        trainData=_directory(data, "train", "data.train", required="train" in data_required),
        validationData=_directory(data, "validation", "data.validation", required="validation" in data_required),
        outputDir=output_dir,
        hyper=_hyper(raw.get("hyper"), train_mode, scale),
        initCheckpoint=_directory(raw, "initCheckpoint", "initCheckpoint", required="initCheckpoint" in required),
        resumeFrom=_directory(raw, "resumeFrom", "resumeFrom", required="resumeFrom" in required),
        device=_text(raw, "device", props["device"]),
        precision=_text(raw, "precision", props["precision"]),
    )


def read_export_spec(path: str) -> ExportSpec:
    """Read and validate an ``export`` spec.

    Raises:
        UserError: naming the first field at fault.
    """
    raw = _load_json(path)
    return ExportSpec(
        modelDir=_model_dir(raw),
        checkpoint=_directory(raw, "checkpoint", "checkpoint"),
        outputDir=_directory(raw, "outputDir", "outputDir", must_exist=False),
    )


def _model_dir(raw: Dict[str, Any]) -> str:
    model_dir = _directory(raw, "modelDir", "modelDir")
    if not os.path.isfile(os.path.join(model_dir, "config.json")):
        raise UserError(f"no config.json in {model_dir}", "modelDir")
    return model_dir


def _file(raw: Dict[str, Any], key: str, must_exist: bool) -> str:
    value = _string(raw, key, key)
    if not os.path.isabs(value):
        raise UserError(f"must be an absolute path, got {value!r}", key)
    if must_exist and not os.path.isfile(value):
        raise UserError(f"file does not exist: {value}", key)
    if not must_exist and os.path.isdir(value):
        raise UserError(f"is a folder, not a file: {value}", key)
    return os.path.normpath(value)


def _token_list(value: Any, name: str) -> Tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in value):
        raise UserError(f"must be a list of token ids (integers >= 0), got {value!r}", name)
    return tuple(value)


def read_quantize_spec(path: str) -> QuantizeSpec:
    """Read and validate a ``quantize`` spec.

    Raises:
        UserError: naming the first field at fault.
    """
    raw = _load_json(path)
    props = _properties("quantize.spec")
    model_dir = _model_dir(raw)
    output_dir = _directory(raw, "outputDir", "outputDir", must_exist=False)
    if output_dir == model_dir:
        raise UserError("must differ from modelDir (the source would be overwritten)", "outputDir")
    bits = raw.get("bits")
    allowed_bits = props["bits"]["enum"]
    if isinstance(bits, bool) or bits not in allowed_bits:
        raise UserError(f"must be {' or '.join(str(b) for b in allowed_bits)}, got {bits!r}", "bits")
    bits = int(bits)
    # The default scheme follows bits, which a schema default cannot say.
    default_scheme = "W8A16C16" if bits == 8 else "W4A16C16"
    scheme = _string(raw, "scheme", "scheme", props["scheme"]["enum"], default=default_scheme)
    scheme_bits = 4 if scheme == "W4A16C16" else 8
    if scheme_bits != bits:
        raise UserError(f"{scheme} means {scheme_bits}-bit weights, but bits is {bits}", "scheme")
    return QuantizeSpec(
        modelDir=model_dir,
        outputDir=output_dir,
        bits=bits,
        groupSize=_number(raw, "groupSize", props["groupSize"]),
        scheme=scheme,
        evalSplit=_directory(raw, "evalSplit", "evalSplit", required="evalSplit" in _required("quantize.spec")),
        evalMaxRows=_number(raw, "evalMaxRows", props["evalMaxRows"]),
        device=_text(raw, "device", props["device"]),
    )


def read_generate_spec(path: str) -> GenerateSpec:
    """Read and validate a ``generate`` spec (the prompts file is read by ``read_prompts``).

    Raises:
        UserError: naming the first field at fault.
    """
    raw = _load_json(path)
    props = _properties("generate.spec")
    eos = raw.get("eosTokenIds", props["eosTokenIds"]["default"])
    stops = raw.get("stopSequences") or props["stopSequences"]["default"]
    if not isinstance(stops, list):
        raise UserError(f"must be a list of token-id lists, got {stops!r}", "stopSequences")
    sequences = tuple(_token_list(seq, f"stopSequences[{i}]") for i, seq in enumerate(stops))
    for i, seq in enumerate(sequences):
        if not seq:
            raise UserError("must not be empty", f"stopSequences[{i}]")
    return GenerateSpec(
        modelDir=_model_dir(raw),
        promptsFile=_file(raw, "promptsFile", must_exist=True),
        outputFile=_file(raw, "outputFile", must_exist=False),
        maxNewTokens=_number(raw, "maxNewTokens", props["maxNewTokens"]),
        doSample=_bool(raw, "doSample", props["doSample"]["default"]),
        temperature=_number(raw, "temperature", props["temperature"]),
        topP=_number(raw, "topP", props["topP"]),
        topK=_number(raw, "topK", props["topK"]),
        repetitionPenalty=_number(raw, "repetitionPenalty", props["repetitionPenalty"]),
        eosTokenIds=None if eos is None else _token_list(eos, "eosTokenIds"),
        stopSequences=sequences,
        batchSize=_number(raw, "batchSize", props["batchSize"]),
        seed=_number(raw, "seed", props["seed"]),
        device=_text(raw, "device", props["device"]),
        dtype=_text(raw, "dtype", props["dtype"]),
    )


def serve_spec_from(raw: Dict[str, Any]) -> ServeSpec:
    """Validate a ``serve`` spec's fields (the spec file's, or the vLLM-like argv's mapped onto them).

    Raises:
        UserError: naming the first field at fault.
    """
    props = _properties("serve.spec")
    key_file = raw.get("apiKeyFile")
    max_len = raw.get("maxModelLen", props["maxModelLen"]["default"])
    return ServeSpec(
        modelDir=_model_dir(raw),
        servedModelName=_text(raw, "servedModelName", props["servedModelName"]),
        host=_text(raw, "host", props["host"]),
        port=_number(raw, "port", props["port"]),
        apiKeyFile=None if key_file is None else _file(raw, "apiKeyFile", must_exist=True),
        device=_text(raw, "device", props["device"]),
        dtype=_text(raw, "dtype", props["dtype"]),
        maxBatchSize=_number(raw, "maxBatchSize", props["maxBatchSize"]),
        maxModelLen=None if max_len is None else _number(raw, "maxModelLen", props["maxModelLen"]["anyOf"][0], default=None),
    )


def read_serve_spec(path: str) -> ServeSpec:
    """Read and validate a ``serve`` spec.

    Raises:
        UserError: naming the first field at fault.
    """
    return serve_spec_from(_load_json(path))


def read_prompts(path: str) -> List[Prompt]:
    """The prompts of a ``generate`` run: one JSON object ``{"id": str, "ids": [int, ...]}`` per line.

    Blank lines are skipped.

    Raises:
        UserError: naming ``promptsFile`` and the line at fault.
    """
    prompts: List[Prompt] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"promptsFile line {number}"
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise UserError(f"not valid JSON: {exc}", where) from None
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise UserError('must be an object with a string "id"', where)
            ids = _token_list(item.get("ids"), f"{where}: ids")
            if not ids:
                raise UserError("ids must hold at least one token", where)
            prompts.append(Prompt(item["id"], list(ids)))
    if not prompts:
        raise UserError("holds no prompts", "promptsFile")
    return prompts
