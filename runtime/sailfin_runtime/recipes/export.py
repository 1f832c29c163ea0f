"""Export recipe: a checkpoint (full or LoRA) -> a complete Hugging Face model folder.

The adapter is merged into the base weights in fp32 and the result is cast back
to the base model's dtype, so the folder is a model like the one it came from:
``model.safetensors``, ``config.json`` and the base folder's tokenizer and other
files. It can be served, or used as the base of further training.
"""

from __future__ import annotations

import os
from typing import Optional

import torch

from .. import _compat
from ..io import safetensors
from ..io.checkpoint import read_state, write_json
from ..io.model_folder import copy_side_files
from ..models import lora
from ..models.decoder import CausalLM, ModelConfig
from ..protocol import EventSink, UserError, log
from ..spec import ExportSpec

_DTYPE_NAMES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}


def run(spec: ExportSpec, events: EventSink) -> None:
    """Merge and write; emits ``done`` with ``outputs.modelDir``.

    Raises:
        UserError: the checkpoint does not fit the base model.
    """
    config = ModelConfig.from_dir(spec.modelDir)
    base_weights = safetensors.load_weights(spec.modelDir, "modelDir")
    out_dtype = base_weights["model.embed_tokens.weight"].dtype if "model.embed_tokens.weight" in base_weights else torch.float32
    if out_dtype not in _DTYPE_NAMES:
        out_dtype = torch.float32
    with _compat.skip_init():
        model = CausalLM(config)
    model.load_hf_state_dict(base_weights, "modelDir")
    del base_weights

    state = read_state(spec.checkpoint) or {}
    step: Optional[int] = state.get("step")
    if lora.is_adapter_folder(spec.checkpoint):
        base_checkpoint = state.get("baseCheckpoint")
        if base_checkpoint:
            if not os.path.isdir(base_checkpoint):
                raise UserError(f"the adapter was trained on the full checkpoint {base_checkpoint}, which no longer exists",
                                "checkpoint")
            model.load_hf_state_dict(safetensors.load_weights(base_checkpoint, "checkpoint"), "checkpoint")
        lora.load_adapter(model, spec.checkpoint)
        merged = lora.merge_lora(model)
        log(f"merged {merged} LoRA modules")
    else:
        if not any(os.path.isfile(os.path.join(spec.checkpoint, name)) for name in
                   ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")):
            raise UserError("holds neither model weights nor adapter_config.json", "checkpoint")
        model.load_hf_state_dict(safetensors.load_weights(spec.checkpoint, "checkpoint"), "checkpoint")

    os.makedirs(spec.outputDir, exist_ok=True)
    stale = os.path.join(spec.outputDir, "model.safetensors.index.json")
    if os.path.exists(stale):
        os.remove(stale)
    tensors = {k: (v.to(out_dtype) if v.is_floating_point() else v) for k, v in model.hf_state_dict().items()}
    safetensors.save_file(tensors, os.path.join(spec.outputDir, "model.safetensors"), metadata={"format": "pt"})
    write_json(spec.outputDir, "config.json", {**config.raw, "torch_dtype": _DTYPE_NAMES[out_dtype]})
    copy_side_files(spec.modelDir, spec.outputDir)
    events.emit("done", step=step, outputs={"modelDir": os.path.abspath(spec.outputDir)})
