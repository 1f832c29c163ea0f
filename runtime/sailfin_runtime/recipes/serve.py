"""Serve recipe: an OpenAI-compatible engine on token ids, until SIGTERM.

Reads top to bottom: device, dtype, model (plain or quantized, ``load_model``), the folder's
``tokenizer.json`` (to detokenize), the key -> the scheduler thread and the HTTP server ->
``ready {url}`` -> wait for the stop signal -> stop accepting, end every request in flight
(an error in its stream, 503 to a waiting one) -> ``stopped``.

A failure of the scheduler thread ends the recipe with that error (the worker restarts it).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import List, Optional

import torch

from .. import _compat
from ..models.decoder import ModelConfig
from ..models.loading import load_model, resolve_placement
from ..protocol import EventSink, StopFlag, UserError, log
from ..serving.api import Engine, Writer, make_server, read_api_key
from ..serving.detokenize import Detokenizer
from ..serving.scheduler import Scheduler
from ..spec import ServeSpec
from .generate import default_eos


def _url(host: str, port: int) -> str:
    """What clients dial: a wildcard bind is reached at this machine's name."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


PARENT_ENV = "SAILFIN_ENGINE_PARENT_PID"


def _watched_parent() -> Optional[int]:
    """The worker's pid when it asked to be watched (``SAILFIN_ENGINE_PARENT_PID``) and is our parent; else None."""
    value = os.environ.get(PARENT_ENV, "")
    if not value.isdigit() or int(value) != os.getppid():
        return None
    return int(value)


def run(spec: ServeSpec, events: EventSink, stop: StopFlag) -> None:
    """Serve until ``stop``; emits ``ready`` once listening, then ``stopped``.

    Raises:
        UserError: an unavailable device or dtype, a tokenizer this engine cannot decode, a bad
            key file, a port that cannot be bound.
    """
    device, dtype = resolve_placement(spec.device, spec.dtype)
    api_key = None
    if spec.apiKeyFile is not None:
        try:
            api_key = read_api_key(spec.apiKeyFile)
        except (OSError, ValueError) as exc:
            raise UserError(str(exc), "apiKeyFile") from None
    tokenizer_path = os.path.join(spec.modelDir, "tokenizer.json")
    try:
        detokenizer = Detokenizer.from_file(tokenizer_path)
    except FileNotFoundError:
        raise UserError(f"no tokenizer.json in {spec.modelDir} (the engine needs it to return text)", "modelDir") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{tokenizer_path}: {exc}", "modelDir") from None
    config = ModelConfig.from_dir(spec.modelDir)
    max_len = spec.maxModelLen if spec.maxModelLen is not None else config.max_position_embeddings
    if max_len > config.max_position_embeddings:
        log(f"warning: maxModelLen {max_len} exceeds max_position_embeddings {config.max_position_embeddings}; "
            "quality may drop past it")
    threads = _compat.configure_torch_threads("bf16" if dtype == torch.bfloat16 else "fp32", device)
    model = load_model(spec.modelDir, device, dtype)
    eos = default_eos(spec.modelDir, config)

    writer = Writer().start()
    scheduler = Scheduler(model, detokenizer, spec.maxBatchSize, writer.deliver)
    failure: List[BaseException] = []

    def engine_loop() -> None:
        try:
            scheduler.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            failure.append(exc)

    try:
        server = make_server(Engine(scheduler, spec.servedModelName, max_len, eos, api_key), spec.host, spec.port)
    except OSError as exc:
        raise UserError(f"cannot listen on {spec.host}:{spec.port}: {exc}", "port") from None
    engine_thread = threading.Thread(target=engine_loop, name="engine", daemon=True)
    engine_thread.start()
    http_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="http", daemon=True)
    http_thread.start()
    url = _url(spec.host, server.server_address[1])
    log(f"torch {torch.__version__} on {device}, {str(dtype).replace('torch.', '')}, {threads} torch thread(s): "
        f"serving {spec.servedModelName!r} at {url}, batches of up to {spec.maxBatchSize}, max_model_len {max_len}, "
        f"eos {list(eos)}, {'bearer key required' if api_key else 'no auth'}")
    events.emit("ready", url=url)
    parent = _watched_parent()
    try:
        while not stop.requested and engine_thread.is_alive():
            if parent is not None and os.getppid() != parent:
                # The worker that started us died without stopping us (SIGKILL, OOM): another worker
                # brings the service up elsewhere, so this engine would only hold memory (a GPU's).
                log(f"the worker (pid {parent}) that started this engine is gone: stopping")
                break
            time.sleep(0.1)
    finally:
        server.shutdown()  # no new connections; the open ones get their requests' ends below
        scheduler.stop()
        engine_thread.join(timeout=30)
        writer.close()  # every open stream has its end written
        time.sleep(0.2)  # and waiting handler threads a moment to answer
        server.server_close()
    if failure:
        raise failure[0]
    log("stopped serving")
    events.emit("stopped", step=None, checkpoint=None)
