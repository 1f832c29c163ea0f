"""The runtime's side of docs/runtime-protocol.md: events, errors, stop signal.

Events are one JSON object per stdout line, flushed at once so the worker sees
them live; human-readable logs go to stderr. This module imports no torch, so a
bad spec is reported before the (slow) torch import.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from typing import Any, Callable, List, Optional, TextIO

EXIT_OK = 0
EXIT_SYSTEM = 1
EXIT_USER = 2


class UserError(Exception):
    """Bad input (spec, data, model): reported as ``error`` kind ``user``, exit 2, not retried.

    Args:
        message: what is wrong and, where it helps, what to do.
        field: the spec field at fault (e.g. ``hyper.learningRate``), prefixed to the message.
    """

    def __init__(self, message: str, field: Optional[str] = None):
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


def _finite(value: Any) -> Any:
    """JSON has no NaN/Infinity: non-finite floats become null, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class EventSink:
    """Writes protocol events as JSON lines (stdout by default).

    Args:
        stream: where lines go.
        keep: when True, also keep every event in ``self.events`` (tests).
    """

    def __init__(self, stream: Optional[TextIO] = None, keep: bool = False):
        self.stream = stream if stream is not None else sys.stdout
        self.keep = keep
        self.events: List[dict] = []

    def emit(self, event: str, **fields: Any) -> dict:
        record = _finite({"event": event, "time": round(time.time(), 3), **fields})
        if self.keep:
            self.events.append(record)
        self.stream.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        self.stream.flush()
        return record


def _log_prefix() -> str:
    """``[sailfin_runtime]``, or ``[sailfin_runtime rank 1]`` in a data-parallel run (ranks share stderr)."""
    if int(os.environ.get("WORLD_SIZE", "1") or "1") > 1:
        return f"[sailfin_runtime rank {os.environ.get('RANK', '?')}]"
    return "[sailfin_runtime]"


def log(message: str) -> None:
    """A human-readable line on stderr (never stdout: stdout is the event channel)."""
    sys.stderr.write(f"{_log_prefix()} {message}\n")
    sys.stderr.flush()


class StopFlag:
    """Set by SIGTERM/SIGINT; the training loop checks it between optimizer steps.

    Stopping between steps (not inside the handler) keeps the checkpoint consistent:
    weights, optimizer and data position all belong to the same step.
    """

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: Optional[str] = None

    def install(self) -> "StopFlag":
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: Any) -> None:
        self.requested = True
        self.signal_name = signal.Signals(signum).name
        log(f"{self.signal_name} received: stopping after the current step")


def run_guarded(events: EventSink, body: Callable[[], None], is_oom: Callable[[BaseException], bool]) -> int:
    """Run a recipe and turn its outcome into the protocol's exit code and error event.

    Args:
        events: the event sink.
        body: the recipe (emits ``done`` or ``stopped`` itself).
        is_oom: classifies out-of-memory errors, which are the user's to fix (batch size, length).

    Returns:
        0 after ``done``/``stopped``, 2 after a user error, 1 after anything else.
    """
    try:
        body()
        return EXIT_OK
    except UserError as exc:
        log(f"user error: {exc}")
        events.emit("error", kind="user", message=str(exc))
        return EXIT_USER
    except BaseException as exc:  # noqa: BLE001 - every failure must become an event
        import traceback

        traceback.print_exc(file=sys.stderr)
        if is_oom(exc):
            events.emit("error", kind="user", message=f"out of memory: {exc}. Lower batchSize or maxSeqLen.")
            return EXIT_USER
        if isinstance(exc, SystemExit) and exc.code in (0, None):
            return EXIT_OK
        message = f"{type(exc).__name__}: {exc}".strip()
        events.emit("error", kind="system", message=message[:4000])
        return EXIT_SYSTEM
