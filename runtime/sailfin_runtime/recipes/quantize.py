"""Quantize recipe: a model folder -> a weight-only int8 or int4 model folder (models/quant.py).

Reads top to bottom: check the source and the evaluation split -> quantize the
decoder's linear layers one by one from the memory-mapped source weights (stopping
between modules on SIGTERM) -> write ``model.safetensors``, side files and, last,
``config.json`` with its ``quantization`` section -> perplexity of the source and of
the written folder on the evaluation split (fp32, loaded through ``load_model``, so
the figure is of the folder as it will be served) -> done.

The output folder is written in place; the worker deletes it when the run fails or
stops.
"""

from __future__ import annotations

import os
import time
from typing import Dict, Optional

import torch

from .. import _compat
from ..evaluation import batch_nll, eval_rows, row_batches
from ..io import safetensors
from ..io.checkpoint import write_json
from ..io.model_folder import copy_side_files, weight_bytes
from ..io.shards import Split
from ..losses import nll_perplexity
from ..models import quant
from ..models.decoder import ModelConfig
from ..models.loading import load_model
from ..protocol import EventSink, StopFlag, UserError, log
from ..spec import QuantizeSpec


class _Stopped(Exception):
    """SIGTERM arrived: unwind to ``run``, which emits ``stopped``."""


def run(spec: QuantizeSpec, events: EventSink, stop: StopFlag) -> None:
    """Quantize, write, measure; emits ``progress`` events then ``done`` (or ``stopped``).

    Raises:
        UserError: the source is not a supported model, is already quantized, or the split does not fit it.
    """
    started = time.perf_counter()
    try:
        device = _compat.resolve_device(spec.device)
    except ValueError as exc:
        raise UserError(str(exc), "device") from None
    _compat.configure_torch_threads("fp32", device)
    config = ModelConfig.from_dir(spec.modelDir)
    if config.raw.get("quantization") is not None:
        raise UserError("is already quantized (config.json has a quantization section)", "modelDir")
    split: Optional[Split] = None
    if spec.evalSplit is not None:
        split = Split(spec.evalSplit, "evalSplit")
        if split.seq_len > config.max_position_embeddings:
            raise UserError(f"seqLen {split.seq_len} exceeds the model's max_position_embeddings "
                            f"{config.max_position_embeddings}", "evalSplit")
        split.scan(config.vocab_size)
    source = safetensors.load_weights(spec.modelDir, "modelDir")
    modules = quant.decoder_linear_names(config.num_hidden_layers)
    missing = [m for m in modules if f"{m}.weight" not in source]
    if missing:
        raise UserError(f"weights miss {len(missing)} linear layer(s), e.g. {missing[:2]}", "modelDir")
    batches = row_batches(eval_rows(split, spec.evalMaxRows), split.seq_len) if split is not None else []
    total = len(modules) + 2 * len(batches)
    done_items = 0

    def progress(count: int = 1) -> None:
        nonlocal done_items
        done_items += count
        events.emit("progress", done=done_items, total=total)

    def check_stop() -> None:
        if stop.requested:
            raise _Stopped()

    try:
        # ------------------------------------------------------------ quantize
        out: Dict[str, torch.Tensor] = {}
        scale_dtype = torch.float32
        per_layer = len(quant.LINEAR_NAMES)
        for n, name in enumerate(modules):
            check_stop()
            weight = source[f"{name}.weight"]
            q = quant.quantize_weight(weight.to(device), spec.bits, spec.groupSize)
            out[f"{name}.qweight"] = q.qweight.cpu()
            out[f"{name}.scales"] = q.scales.cpu()
            scale_dtype = q.scales.dtype
            if (n + 1) % per_layer == 0:
                progress(per_layer)
        quantized = {f"{m}.weight" for m in modules}
        out.update({k: v for k, v in source.items() if k not in quantized})
        del source

        # ------------------------------------------------------------ write
        os.makedirs(spec.outputDir, exist_ok=True)
        for stale in ("model.safetensors.index.json", "config.json"):
            if os.path.exists(os.path.join(spec.outputDir, stale)):
                os.remove(os.path.join(spec.outputDir, stale))
        safetensors.save_file(out, os.path.join(spec.outputDir, "model.safetensors"), metadata={"format": "pt"})
        del out
        copy_side_files(spec.modelDir, spec.outputDir)
        dtype_name = str(scale_dtype).replace("torch.", "")
        section = quant.quantization_section(spec.bits, spec.groupSize if spec.bits == 4 else None, spec.scheme,
                                             modules, dtype_name)
        write_json(spec.outputDir, "config.json", {**config.raw, "quantization": section})  # last: the folder is complete
        quantize_seconds = time.perf_counter() - started
        size_before, size_after = weight_bytes(spec.modelDir), weight_bytes(spec.outputDir)
        log(f"quantized {len(modules)} linear layers to int{spec.bits} in {quantize_seconds:.1f} s: "
            f"{size_before:,} -> {size_after:,} bytes of weights")

        # ------------------------------------------------------------ measure
        perplexities = []
        for folder in (spec.modelDir, spec.outputDir):
            if split is None:
                perplexities.append(None)
                continue
            check_stop()
            model = load_model(folder, device, torch.float32)
            nll_sum, tokens = 0.0, 0
            for rows in batches:
                check_stop()
                nll, count = batch_nll(model, split, rows, device)
                nll_sum, tokens = nll_sum + nll, tokens + count
                progress()
            del model
            perplexities.append(nll_perplexity(nll_sum, tokens))
        if split is not None:
            log(f"perplexity on {sum(len(b) for b in batches)} rows of {spec.evalSplit}: "
                f"{perplexities[0]} before, {perplexities[1]} after")
    except _Stopped:
        log(f"stopped after {done_items} of {total} work items")
        events.emit("stopped", step=None, checkpoint=None, done=done_items, total=total)
        return

    events.emit("done", step=None, outputs={
        "modelDir": os.path.abspath(spec.outputDir), "sizeBefore": size_before, "sizeAfter": size_after,
        "perplexityBefore": perplexities[0], "perplexityAfter": perplexities[1], "quantizedModules": len(modules),
        "seconds": round(time.perf_counter() - started, 3),
    })
