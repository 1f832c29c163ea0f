"""Puts the runtime package on sys.path (the tests run from a checkout, not an install).

Tests pin torch to one OpenMP thread unless the caller chose: the models are tiny, and
on a shared 2-core machine two spinning OpenMP threads made torch 2.x (MKL) runs up
to 30x slower (dpo resume test: 44 s with 2 threads, 1.5 s with 1).
"""

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

RUNTIME_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if RUNTIME_ROOT not in sys.path:
    sys.path.insert(0, RUNTIME_ROOT)


import pytest  # noqa: E402 - after the path set-up above

from protocol_schema import event_errors  # noqa: E402
from sailfin_runtime.protocol import EventSink  # noqa: E402


@pytest.fixture(autouse=True)
def events_follow_the_schema(monkeypatch):
    """Every event a recipe emits in-process, in any test, must match schema/events.json."""
    problems = []
    emit = EventSink.emit

    def checked(self, event, **fields):
        record = emit(self, event, **fields)
        problems.extend(f"{record['event']}: {p}" for p in event_errors(record))
        return record

    monkeypatch.setattr(EventSink, "emit", checked)
    yield
    assert not problems, f"events broke schema/events.json: {problems}"
