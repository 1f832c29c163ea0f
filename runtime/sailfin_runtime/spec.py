"""Read and validate spec.json (docs/runtime-protocol.md), naming the field at fault.

Every check happens here, before torch is imported, so a bad spec costs
milliseconds and reports every problem with the exact field path.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .protocol import UserError

TRAIN_MODES = ("SFT", "PostPretrain", "DPO", "KTO")
PARAMETER_SCALES = ("FullFineTuning", "LoRA")
SCHEDULERS = ("cosine", "linear", "constant")
LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class Hyper:
    """Training hyper-parameters (``spec.hyper``), with the TypeScript table's defaults."""

    epoch: int = 1
    learningRate: float = 3e-5
    batchSize: int = 8
    gradientAccumulationSteps: int = 1
    warmupRatio: float = 0.1
    weightDecay: float = 0.01
    schedulerName: str = "cosine"
    maxGradNorm: float = 1.0
    loggingSteps: int = 1
    saveStep: int = 100
    checkpointCount: int = 1
    seed: int = 42
    loraRank: int = 8
    loraAlpha: float = 16.0
    loraDropout: float = 0.05
    loraTargetModules: List[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    dpoBeta: float = 0.1
    ktoBeta: float = 0.1
    gradientCheckpointing: bool = False


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
    initCheckpoint: Optional[str] = None
    resumeFrom: Optional[str] = None
    device: str = "auto"
    precision: str = "auto"

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
    evalSplit: Optional[str] = None
    evalMaxRows: int = 64
    device: str = "auto"


@dataclass(frozen=True)
class GenerateSpec:
    """A validated ``generate`` spec. ``eosTokenIds`` None: the model's ``eos_token_id``."""

    modelDir: str
    promptsFile: str
    outputFile: str
    maxNewTokens: int = 64
    doSample: bool = False
    temperature: float = 1.0
    topP: float = 1.0
    topK: int = 0
    repetitionPenalty: float = 1.0
    eosTokenIds: Optional[Tuple[int, ...]] = None
    stopSequences: Tuple[Tuple[int, ...], ...] = ()
    batchSize: int = 8
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"


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


def _string(obj: Dict[str, Any], key: str, name: str, choices: Optional[tuple] = None, default: Any = ...) -> Any:
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


def _directory(obj: Dict[str, Any], key: str, name: str, required: bool = True, must_exist: bool = True) -> Optional[str]:
    value = _string(obj, key, name, default=... if required else None)
    if value is None:
        return None
    if not os.path.isabs(value):
        raise UserError(f"must be an absolute path, got {value!r}", name)
    if must_exist and not os.path.isdir(value):
        raise UserError(f"folder does not exist: {value}", name)
    return os.path.normpath(value)


def _number(hyper: Dict[str, Any], key: str, default: Any, integer: bool, minimum: float, maximum: float = float("inf"),
            exclusive_min: bool = False, prefix: str = "hyper.") -> Any:
    name = f"{prefix}{key}"
    value = hyper.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"must be a number, got {value!r}", name)
    if integer:
        if float(value) != int(value):
            raise UserError(f"must be an integer, got {value!r}", name)
        value = int(value)
    else:
        value = float(value)
    too_small = value <= minimum if exclusive_min else value < minimum
    if too_small or value > maximum or value != value:
        bound = f"> {minimum}" if exclusive_min else f">= {minimum}"
        raise UserError(f"must be {bound} and <= {maximum}, got {value!r}", name)
    return value


def _hyper(raw: Any, train_mode: str, lora: bool) -> Hyper:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError("must be an object", "hyper")
    d = Hyper()
    targets = raw.get("loraTargetModules", d.loraTargetModules)
    if lora:
        if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
            raise UserError(f"must be a non-empty list of module names, got {targets!r}", "hyper.loraTargetModules")
        unknown = [t for t in targets if t not in LORA_MODULES]
        if unknown:
            raise UserError(f"unknown module(s) {unknown}; choose from {', '.join(LORA_MODULES)}", "hyper.loraTargetModules")
    scheduler = _string(raw, "schedulerName", "hyper.schedulerName", SCHEDULERS, default=d.schedulerName)
    checkpointing = raw.get("gradientCheckpointing", False)
    if not isinstance(checkpointing, bool):
        raise UserError(f"must be true or false, got {checkpointing!r}", "hyper.gradientCheckpointing")
    return Hyper(
        epoch=_number(raw, "epoch", d.epoch, True, 1),
        learningRate=_number(raw, "learningRate", d.learningRate, False, 0, 10, exclusive_min=True),
        batchSize=_number(raw, "batchSize", d.batchSize, True, 1),
        # Qianfan's range starts at 0; 0 and 1 both mean "no accumulation".
        gradientAccumulationSteps=max(1, _number(raw, "gradientAccumulationSteps", d.gradientAccumulationSteps, True, 0)),
        warmupRatio=_number(raw, "warmupRatio", d.warmupRatio, False, 0, 1),
        weightDecay=_number(raw, "weightDecay", d.weightDecay, False, 0, 10),
        schedulerName=scheduler,
        maxGradNorm=_number(raw, "maxGradNorm", d.maxGradNorm, False, 0),
        loggingSteps=_number(raw, "loggingSteps", d.loggingSteps, True, 1),
        saveStep=_number(raw, "saveStep", d.saveStep, True, 1),
        checkpointCount=_number(raw, "checkpointCount", d.checkpointCount, True, 1),
        seed=_number(raw, "seed", d.seed, True, 0, 2**63 - 1),
        loraRank=_number(raw, "loraRank", d.loraRank, True, 1) if lora else d.loraRank,
        loraAlpha=_number(raw, "loraAlpha", d.loraAlpha, False, 0, exclusive_min=True) if lora else d.loraAlpha,
        loraDropout=_number(raw, "loraDropout", d.loraDropout, False, 0, 0.999) if lora else d.loraDropout,
        loraTargetModules=list(targets) if lora else d.loraTargetModules,
        dpoBeta=_number(raw, "dpoBeta", d.dpoBeta, False, 0, exclusive_min=True) if train_mode == "DPO" else d.dpoBeta,
        ktoBeta=_number(raw, "ktoBeta", d.ktoBeta, False, 0, exclusive_min=True) if train_mode == "KTO" else d.ktoBeta,
        gradientCheckpointing=checkpointing,
    )


def read_finetune_spec(path: str) -> FinetuneSpec:
    """Read and validate a ``finetune`` spec.

    Raises:
        UserError: naming the first field at fault.
    """
    raw = _load_json(path)
    train_mode = _string(raw, "trainMode", "trainMode", TRAIN_MODES)
    scale = raw.get("parameterScale")
    if scale == "PromptTuning":
        raise UserError("PromptTuning is not supported by this runtime; use FullFineTuning or LoRA", "parameterScale")
    scale = _string(raw, "parameterScale", "parameterScale", PARAMETER_SCALES)
    data = raw.get("data")
    if not isinstance(data, dict):
        raise UserError("must be an object with train (and optional validation) folders", "data")
    model_dir = _directory(raw, "modelDir", "modelDir")
    if not os.path.isfile(os.path.join(model_dir, "config.json")):
        raise UserError(f"no config.json in {model_dir}", "modelDir")
    output_dir = _directory(raw, "outputDir", "outputDir", must_exist=False)
    return FinetuneSpec(
        runId=_string(raw, "runId", "runId", default="run"),
        trainMode=train_mode,
        parameterScale=scale,
        modelDir=model_dir,
        trainData=_directory(data, "train", "data.train"),
        validationData=_directory(data, "validation", "data.validation", required=False),
        outputDir=output_dir,
        hyper=_hyper(raw.get("hyper"), train_mode, scale == "LoRA"),
        initCheckpoint=_directory(raw, "initCheckpoint", "initCheckpoint", required=False),
        resumeFrom=_directory(raw, "resumeFrom", "resumeFrom", required=False),
        device=_string(raw, "device", "device", default="auto"),
        precision=_string(raw, "precision", "precision", ("auto", "fp32", "bf16"), default="auto"),
    )


def read_export_spec(path: str) -> ExportSpec:
    """Read and validate an ``export`` spec.

    Raises:
        UserError: naming the first field at fault.
    """
    raw = _load_json(path)
    model_dir = _directory(raw, "modelDir", "modelDir")
    if not os.path.isfile(os.path.join(model_dir, "config.json")):
        raise UserError(f"no config.json in {model_dir}", "modelDir")
    return ExportSpec(
        modelDir=model_dir,
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


def _bool(raw: Dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise UserError(f"must be true or false, got {value!r}", key)
    return value


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
    model_dir = _model_dir(raw)
    output_dir = _directory(raw, "outputDir", "outputDir", must_exist=False)
    if output_dir == model_dir:
        raise UserError("must differ from modelDir (the source would be overwritten)", "outputDir")
    bits = raw.get("bits")
    if isinstance(bits, bool) or bits not in (8, 4):
        raise UserError(f"must be 8 or 4, got {bits!r}", "bits")
    bits = int(bits)
    default_scheme = "W8A16C16" if bits == 8 else "W4A16C16"
    scheme = _string(raw, "scheme", "scheme", ("W8A16C16", "W4A16C16", "INT8-PTQ"), default=default_scheme)
    scheme_bits = 4 if scheme == "W4A16C16" else 8
    if scheme_bits != bits:
        raise UserError(f"{scheme} means {scheme_bits}-bit weights, but bits is {bits}", "scheme")
    return QuantizeSpec(
        modelDir=model_dir,
        outputDir=output_dir,
        bits=bits,
        groupSize=_number(raw, "groupSize", 128, True, 2, prefix=""),
        scheme=scheme,
        evalSplit=_directory(raw, "evalSplit", "evalSplit", required=False),
        evalMaxRows=_number(raw, "evalMaxRows", 64, True, 1, prefix=""),
        device=_string(raw, "device", "device", default="auto"),
    )


def read_generate_spec(path: str) -> GenerateSpec:
    """Read and validate a ``generate`` spec (the prompts file is read by ``read_prompts``).

    Raises:
        UserError: naming the first field at fault.
    """
    raw = _load_json(path)
    d = GenerateSpec(modelDir="", promptsFile="", outputFile="")
    eos = raw.get("eosTokenIds")
    stops = raw.get("stopSequences") or []
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
        maxNewTokens=_number(raw, "maxNewTokens", d.maxNewTokens, True, 1, prefix=""),
        doSample=_bool(raw, "doSample", d.doSample),
        temperature=_number(raw, "temperature", d.temperature, False, 0, 100, exclusive_min=True, prefix=""),
        topP=_number(raw, "topP", d.topP, False, 0, 1, exclusive_min=True, prefix=""),
        topK=_number(raw, "topK", d.topK, True, 0, prefix=""),
        repetitionPenalty=_number(raw, "repetitionPenalty", d.repetitionPenalty, False, 0, 100, exclusive_min=True,
                                  prefix=""),
        eosTokenIds=None if eos is None else _token_list(eos, "eosTokenIds"),
        stopSequences=sequences,
        batchSize=_number(raw, "batchSize", d.batchSize, True, 1, prefix=""),
        seed=_number(raw, "seed", d.seed, True, 0, 2**63 - 1, prefix=""),
        device=_string(raw, "device", "device", default="auto"),
        dtype=_string(raw, "dtype", "dtype", ("auto", "float32", "bfloat16", "float16"), default="auto"),
    )


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
