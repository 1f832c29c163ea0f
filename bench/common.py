"""What the Python benchmarks share: where the runtime is, the machine's description, the results file.

Importing it puts ``runtime/`` (the package) and ``runtime/tests/`` (its helpers: tiny models,
token shards, specs) on ``sys.path``; the scripts run from a checkout, not an install.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
from typing import List

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNTIME = os.path.join(ROOT, "runtime")
for _path in (os.path.join(RUNTIME, "tests"), RUNTIME):
    if _path not in sys.path:
        sys.path.insert(0, _path)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def utc_now() -> str:
    """The time a results file was written, as its heading says it: ``2026-12-06 12:40 UTC``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def write_results(name: str, lines: List[str]) -> str:
    """Write ``bench/results/<name>`` (markdown lines) and say so; returns its path."""
    path = os.path.join(HERE, "results", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path}")
    return path
