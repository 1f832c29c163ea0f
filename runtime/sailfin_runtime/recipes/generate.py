"""Generate recipe: token-id prompts -> generated token ids, batched, with a KV cache.

Reads top to bottom: prompts and settings -> device, dtype, model (plain or quantized,
``load_model``) -> batches of prompts of similar length (sorted longest first, so
little padding and an out-of-memory shows up on the first batch) -> one output line
per prompt, in the prompts file's order -> done.

The output file is written whole at the end (a temp file renamed into place): a
stopped or failed run leaves none.
"""

from __future__ import annotations

import json
import os
import time
from typing import List, Optional, Tuple

import torch

from .. import _compat
from ..generation import Generated, Settings, generate, row_rng
from ..models.decoder import ModelConfig
from ..models.loading import check_vocabulary, load_model, resolve_placement
from ..protocol import EventSink, StopFlag, log
from ..spec import GenerateSpec, read_prompts


def default_eos(model_dir: str, config: ModelConfig) -> Tuple[int, ...]:
    """The model's ``eos_token_id`` (``generation_config.json`` first, as transformers does), as a tuple."""
    value = None
    path = os.path.join(model_dir, "generation_config.json")
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as f:
                value = json.load(f).get("eos_token_id")
        except (OSError, ValueError):
            value = None
    if value is None:
        value = config.raw.get("eos_token_id")
    if value is None:
        return ()
    return tuple(int(v) for v in (value if isinstance(value, list) else [value]))


def run(spec: GenerateSpec, events: EventSink, stop: StopFlag) -> None:
    """Generate for every prompt; emits ``progress`` after each batch, then ``done`` (or ``stopped``).

    Raises:
        UserError: bad prompts, token ids outside the vocabulary, an unavailable device or dtype.
    """
    prompts = read_prompts(spec.promptsFile)
    device, dtype = resolve_placement(spec.device, spec.dtype)
    threads = _compat.configure_torch_threads("bf16" if dtype == torch.bfloat16 else "fp32", device)
    config = ModelConfig.from_dir(spec.modelDir)
    eos = spec.eosTokenIds if spec.eosTokenIds is not None else default_eos(spec.modelDir, config)
    for token in eos:
        check_vocabulary(config, token, "eosTokenIds")
    for i, seq in enumerate(spec.stopSequences):
        for token in seq:
            check_vocabulary(config, token, f"stopSequences[{i}]")
    for prompt in prompts:
        top = max(prompt.ids)
        if top >= config.vocab_size:
            check_vocabulary(config, top, f"promptsFile (id {prompt.id!r})")
    longest = max(len(p.ids) for p in prompts) + spec.maxNewTokens
    if longest > config.max_position_embeddings:
        log(f"warning: prompts of up to {longest - spec.maxNewTokens} tokens plus {spec.maxNewTokens} new ones exceed "
            f"max_position_embeddings {config.max_position_embeddings}; quality may drop past it")

    model = load_model(spec.modelDir, device, dtype)
    settings = Settings(max_new_tokens=spec.maxNewTokens, do_sample=spec.doSample, temperature=spec.temperature,
                        top_p=spec.topP, top_k=spec.topK, repetition_penalty=spec.repetitionPenalty,
                        eos_token_ids=tuple(eos), stop_sequences=tuple(spec.stopSequences))
    log(f"torch {torch.__version__} on {device}, {str(dtype).replace('torch.', '')}, {threads} torch thread(s): "
        f"{len(prompts)} prompts, batches of {spec.batchSize}, eos {list(eos)}")

    order = sorted(range(len(prompts)), key=lambda i: (-len(prompts[i].ids), i))
    batches = [order[i:i + spec.batchSize] for i in range(0, len(order), spec.batchSize)]
    results: List[Optional[Generated]] = [None] * len(prompts)
    started = time.perf_counter()
    generated_tokens, finished = 0, 0
    for batch in batches:
        outputs = generate(model, [prompts[i].ids for i in batch], settings, [row_rng(spec.seed, i) for i in batch],
                           should_stop=lambda: stop.requested)
        if outputs is None or stop.requested:
            log(f"stopped after {finished} of {len(prompts)} prompts")
            events.emit("stopped", step=None, checkpoint=None, done=finished, total=len(prompts))
            return
        for i, out in zip(batch, outputs):
            results[i] = out
            generated_tokens += len(out.ids)
        finished += len(batch)
        events.emit("progress", done=finished, total=len(prompts))
    seconds = time.perf_counter() - started

    folder = os.path.dirname(spec.outputFile)
    os.makedirs(folder, exist_ok=True)
    tmp = f"{spec.outputFile}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        for prompt, out in zip(prompts, results):
            f.write(json.dumps({"id": prompt.id, "ids": out.ids, "finishReason": out.finish_reason,
                                "promptTokens": len(prompt.ids)}, separators=(",", ":")) + "\n")
    os.replace(tmp, spec.outputFile)
    log(f"generated {generated_tokens} tokens in {seconds:.2f} s")
    events.emit("done", step=None, outputs={
        "outputFile": spec.outputFile, "generatedTokens": generated_tokens,
        "tokensPerSecond": generated_tokens / max(seconds, 1e-9), "seconds": round(seconds, 3),
    })
