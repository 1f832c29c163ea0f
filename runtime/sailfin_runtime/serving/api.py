"""The engine's HTTP API, OpenAI-compatible on token ids (vLLM answers the same requests).

``GET /health``, ``GET /v1/models`` and ``POST /v1/completions`` (docs: runtime/README.md,
"Serving"). A ``ThreadingHTTPServer``: one thread per connection, each submitting to the
one scheduler thread and relaying its events, as one JSON answer or as server-sent events.
A client that goes away cancels its request: a failed write, or (while it waits) a closed
socket seen by a non-blocking peek.
"""

from __future__ import annotations

import hmac
import json
import math
import os
import queue
import select
import socket
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..generation import Settings
from .scheduler import Request, Scheduler

DEFAULT_MAX_TOKENS = 16
MAX_BODY = 64 * 1024 * 1024


class ApiError(Exception):
    """An OpenAI error envelope: ``{"error": {message, type, param, code}}`` with an HTTP status."""

    def __init__(self, status: int, message: str, param: Optional[str] = None, code: Optional[str] = None,
                 kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> Dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


class Engine:
    """What the handlers need: the scheduler, the served name, limits, the key.

    Args:
        scheduler: runs the model.
        served_model_name: the only ``model`` accepted.
        max_model_len: prompt + new tokens cap.
        eos_ids: the model's end-of-sequence ids (stop unless ``ignore_eos``).
        api_key: the bearer secret; None: no auth.
    """

    def __init__(self, scheduler: Scheduler, served_model_name: str, max_model_len: int, eos_ids: Tuple[int, ...],
                 api_key: Optional[str]):
        self.scheduler = scheduler
        self.name = served_model_name
        self.max_model_len = max_model_len
        self.eos_ids = tuple(eos_ids)
        self.api_key = api_key
        self.created = int(time.time())


def _int(body: Dict[str, Any], key: str, default: Optional[int], low: int, high: Optional[int] = None) -> Optional[int]:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, float) and value.is_integer()):
        raise ApiError(400, f"{key} must be an integer, got {value!r}", key)
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise ApiError(400, f"{key} must be {bound}, got {value}", key)
    return value


def _float(body: Dict[str, Any], key: str, default: float, low: float, high: float, low_open: bool = False) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ApiError(400, f"{key} must be a number, got {value!r}", key)
    if value < low or value > high or (low_open and value == low):
        raise ApiError(400, f"{key} must be {'>' if low_open else '>='} {low} and <= {high}, got {value}", key)
    return float(value)


def _token_ids(value: Any, key: str, vocab: int) -> List[int]:
    if not isinstance(value, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in value):
        raise ApiError(400, f"{key} must be a list of token ids", key)
    bad = [t for t in value if t < 0 or t >= vocab]
    if bad:
        raise ApiError(400, f"{key} holds id {bad[0]}, outside the vocabulary (0..{vocab - 1})", key)
    return list(value)


def completion_request(engine: Engine, body: Any) -> Tuple[Request, bool, bool]:
    """A ``/v1/completions`` body -> (request, stream, include_usage).

    Raises:
        ApiError: 400 naming the field at fault, 404 for another model's name.
    """
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str):
        raise ApiError(400, "model is required (a string)", "model")
    if model != engine.name:
        raise ApiError(404, f"The model `{model}` does not exist.", "model", "model_not_found", "invalid_request_error")
    prompt = body.get("prompt")
    if isinstance(prompt, str) or (isinstance(prompt, list) and prompt and isinstance(prompt[0], str)):
        raise ApiError(400, "prompt must be a list of token ids: this engine takes token ids, not text", "prompt")
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], list):
        raise ApiError(400, "prompt must be one list of token ids (one prompt per request)", "prompt")
    vocab = engine.scheduler.vocab
    ids = _token_ids(prompt, "prompt", vocab)
    if not ids:
        raise ApiError(400, "prompt must hold at least one token id", "prompt")
    max_tokens = _int(body, "max_tokens", DEFAULT_MAX_TOKENS, 1)
    if len(ids) + max_tokens > engine.max_model_len:
        raise ApiError(400, f"This model's maximum context length is {engine.max_model_len} tokens. However, you requested "
                            f"{len(ids) + max_tokens} tokens ({len(ids)} in the prompt, {max_tokens} in the completion).",
                       "prompt")
    temperature = _float(body, "temperature", 1.0, 0.0, 100.0)
    top_p = _float(body, "top_p", 1.0, 0.0, 1.0, low_open=True)
    top_k = _int(body, "top_k", -1, -1)
    penalty = _float(body, "repetition_penalty", 1.0, 0.0, 100.0, low_open=True)
    seed = _int(body, "seed", None, -(2 ** 63), 2 ** 64 - 1)
    if _int(body, "n", 1, 1) != 1:
        raise ApiError(400, "n must be 1 (this engine returns one choice)", "n")
    if body.get("echo") not in (None, False):
        raise ApiError(400, "echo is not supported", "echo")
    if body.get("logprobs") is not None:
        raise ApiError(400, "logprobs are not supported", "logprobs")
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop if stop is not None else []
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise ApiError(400, "stop must be a non-empty string or a list of them", "stop")
    stop_ids = _token_ids(body.get("stop_token_ids") or [], "stop_token_ids", vocab)
    ignore_eos = body.get("ignore_eos", False)
    stream = body.get("stream", False)
    for key, value in (("ignore_eos", ignore_eos), ("stream", stream)):
        if value is not None and not isinstance(value, bool):
            raise ApiError(400, f"{key} must be true or false", key)
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise ApiError(400, "stream_options must be an object", "stream_options")
    include_usage = bool((options or {}).get("include_usage", False))
    sample = temperature > 0
    settings = Settings(max_new_tokens=max_tokens, do_sample=sample, temperature=temperature if sample else 1.0,
                        top_p=top_p, top_k=max(top_k, 0), repetition_penalty=penalty)
    # Each request its own stream: a seed makes its samples reproducible (generation.row_rng's stream 0).
    rng = np.random.Generator(np.random.PCG64([seed % 2 ** 64, 0])) if seed is not None else np.random.default_rng()
    request = Request(prompt=ids, max_tokens=max_tokens, settings=settings, rng=rng,
                      stop_ids=frozenset(stop_ids) | (frozenset() if ignore_eos else frozenset(engine.eos_ids)),
                      stop_texts=tuple(stops))
    return request, bool(stream), include_usage


class Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, except that a stream closes its connection when done."""

    protocol_version = "HTTP/1.1"
    server_version = "sailfin-engine"
    engine: Engine  # set on the subclass made by make_server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # no access log: prompts and keys stay out of logs

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, error: ApiError) -> None:
        self._json(error.status, error.body())

    def _authorized(self) -> bool:
        key = self.engine.api_key
        if key is None:
            return True
        header = self.headers.get("Authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8")):
            return True
        self._error(ApiError(401, "Incorrect API key provided." if given else "Missing API key: send Authorization: Bearer <key>.",
                             code="invalid_api_key"))
        return False

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._json(200, {"status": "ok"})
        elif path == "/v1/models":
            if self._authorized():
                self._json(200, {"object": "list", "data": [{
                    "id": self.engine.name, "object": "model", "created": self.engine.created, "owned_by": "sailfin",
                    "max_model_len": self.engine.max_model_len}]})
        else:
            self._error(ApiError(404, f"no route GET {path}", code="not_found", kind="invalid_request_error"))

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        body = self._read_body()
        if body is None:
            return
        if path != "/v1/completions":
            self._error(ApiError(404, f"no route POST {path} (this engine serves /v1/completions)", code="not_found",
                                 kind="invalid_request_error"))
            return
        if not self._authorized():
            return
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            self._error(ApiError(400, f"the body is not valid JSON: {exc}"))
            return
        try:
            request, stream, include_usage = completion_request(self.engine, parsed)
        except ApiError as error:
            self._error(error)
            return
        if not self.engine.scheduler.submit(request):
            self._error(ApiError(503, "the engine is stopping", code="engine_stopping", kind="server_error"))
            return
        if stream:
            self._stream(request, include_usage)
        else:
            self._whole(request)

    def _read_body(self) -> Optional[bytes]:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            self._error(ApiError(400 if length is None or not length.isdigit() else 413,
                                 "a JSON body with a Content-Length (at most 64 MiB) is required"))
            return None
        return self.rfile.read(int(length))

    def _next_event(self, request: Request) -> Optional[tuple]:
        """The request's next event; None (and the request cancelled) once the client is gone."""
        while True:
            try:
                return request.events.get(timeout=0.25)
            except queue.Empty:
                if self._client_gone():
                    request.cancel()
                    return None

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _whole(self, request: Request) -> None:
        parts, finish = [], None
        while True:
            event = self._next_event(request)
            if event is None:
                self.close_connection = True
                return
            if event[0] == "delta":
                parts.append(event[1])
                finish = event[2]
            elif event[0] == "usage":
                self._json(200, {
                    "id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                    "model": self.engine.name,
                    "choices": [{"index": 0, "text": "".join(parts), "logprobs": None, "finish_reason": finish}],
                    "usage": {"prompt_tokens": event[1], "completion_tokens": event[2], "total_tokens": event[1] + event[2]},
                })
                return
            else:
                self._error(ApiError(event[1], event[2], code="engine_stopping", kind="server_error"))
                return

    def _stream(self, request: Request, include_usage: bool) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        head = {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                "model": self.engine.name}
        try:
            self.wfile.flush()
            while True:
                event = self._next_event(request)
                if event is None:
                    return
                if event[0] == "delta":
                    choice = {"index": 0, "text": event[1], "logprobs": None, "finish_reason": event[2]}
                    self._send_event({**head, "choices": [choice]})
                elif event[0] == "usage":
                    if include_usage:
                        self._send_event({**head, "choices": [], "usage": {
                            "prompt_tokens": event[1], "completion_tokens": event[2], "total_tokens": event[1] + event[2]}})
                    break
                else:
                    self._send_event(ApiError(event[1], event[2], code="engine_stopping", kind="server_error").body())
                    break
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except OSError:  # the client went away mid-stream
            request.cancel()

    def _send_event(self, payload: Dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload, separators=(",", ":")).encode("utf-8") + b"\n\n")
        self.wfile.flush()


def make_server(engine: Engine, host: str, port: int) -> ThreadingHTTPServer:
    """A server bound to (host, port); port 0 picks a free one (``server.server_address``)."""
    handler = type("EngineHandler", (Handler,), {"engine": engine})
    # Daemon threads: a client that never reads must not keep a stopping engine alive.
    fields = {"daemon_threads": True, "address_family": socket.AF_INET6 if ":" in host else socket.AF_INET}
    return type("EngineServer", (ThreadingHTTPServer,), fields)((host, port), handler)


def read_api_key(path: str) -> str:
    """The bearer secret of a file readable by its owner alone.

    Raises:
        ValueError: the file is readable by others, or empty.
    """
    mode = os.stat(path).st_mode
    if mode & 0o077:
        raise ValueError(f"{path} is readable or writable by group or others (mode {oct(mode & 0o777)}); chmod 600 it")
    with open(path, encoding="utf-8") as f:
        key = f.read().strip()
    if not key:
        raise ValueError(f"{path} is empty")
    return key
