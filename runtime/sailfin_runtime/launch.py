"""``python3 -m sailfin_runtime launch --nproc N <recipe> --spec <path>``: N local ranks of one run.

``torchrun`` crashes on Debian's torch 1.13 with Python 3.11 (its launcher raises an
AttributeError), so this starts the ranks itself, with the environment torchrun would
give them (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT on
a free port). On torch 2.x, torchrun (or srun) starts the same recipe just as well.

To the worker it looks like one runtime process: rank 0's stdout (the event channel)
is relayed, every rank's stderr is inherited, SIGTERM/SIGINT are forwarded to every
rank (they agree on the step to stop after), and the exit code is the protocol's. A
rank that dies takes the run down: the others are killed and the launcher reports an
``error`` event of kind ``system`` naming the rank, exit 1, so the worker retries and
the run resumes from its last checkpoint. Ranks get SIGKILL when the launcher itself dies
(PR_SET_PDEATHSIG), so a killed worker leaves none behind. Imports no torch.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Tuple

from ._compat import cpu_count
from .protocol import EXIT_OK, EXIT_SYSTEM, EXIT_USER, EventSink, UserError, log

_KILL_GRACE_S = 10.0  # after one rank failed, how long the others get before SIGKILL


USAGE = "usage: python3 -m sailfin_runtime launch --nproc N finetune --spec /abs/spec.json"


def parse(argv: List[str]) -> Tuple[int, str]:
    """``--nproc N finetune --spec <path>`` -> (N, the spec's path)."""
    if len(argv) != 5 or argv[0] != "--nproc" or argv[3] != "--spec":
        raise UserError(USAGE, "argv")
    try:
        nproc = int(argv[1])
    except ValueError:
        raise UserError(f"--nproc {argv[1]!r} is not an integer", "argv") from None
    if nproc < 1:
        raise UserError(f"--nproc {nproc} must be at least 1", "argv")
    if argv[2] != "finetune":
        raise UserError(f"only the finetune recipe runs on several ranks, not {argv[2]!r}", "argv")
    return nproc, argv[4]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_env(rank: int, nproc: int, port: int) -> Dict[str, str]:
    """The environment of local rank ``rank`` of a one-node run of ``nproc`` ranks."""
    env = dict(os.environ)
    env.update({"RANK": str(rank), "WORLD_SIZE": str(nproc), "LOCAL_RANK": str(rank),
                "LOCAL_WORLD_SIZE": str(nproc), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    # Ranks share the node's cores: without this each would take them all (as torchrun does, by default).
    per_rank = str(max(1, cpu_count() // nproc))
    env.setdefault("OPENBLAS_NUM_THREADS", per_rank)
    env.setdefault("OMP_NUM_THREADS", per_rank)
    return env


class _Relay(threading.Thread):
    """Copies rank 0's event lines to stdout, holding back its ``error`` event for the launcher to judge."""

    def __init__(self, stream, out) -> None:
        super().__init__(daemon=True)
        self.stream, self.out = stream, out
        self.error: Optional[str] = None

    def run(self) -> None:
        for line in self.stream:
            try:
                is_error = json.loads(line).get("event") == "error"
            except ValueError:
                is_error = False
            if is_error:
                self.error = line
                continue
            self.out.write(line)
            self.out.flush()


def run(nproc: int, spec_path: str, events: EventSink) -> int:
    """Start the ranks of the finetune recipe, wait for them, return the protocol's exit code."""
    port = _free_port()
    command = [sys.executable, "-m", "sailfin_runtime", "finetune", "--spec", spec_path]
    procs: List[subprocess.Popen] = []

    def forward(signum: int, _frame) -> None:
        log(f"{signal.Signals(signum).name} received: forwarding to every rank")
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    for rank in range(nproc):
        procs.append(subprocess.Popen(
            command, env=rank_env(rank, nproc, port), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if rank == 0 else subprocess.DEVNULL, text=True, preexec_fn=_die_with_parent))
    relay = _Relay(procs[0].stdout, events.stream)
    relay.start()
    log(f"started {nproc} ranks (pids {', '.join(str(p.pid) for p in procs)}), MASTER_PORT={port}")

    first_failure: Optional[int] = None
    failed_at = 0.0
    while any(p.poll() is None for p in procs):
        if first_failure is None:
            for rank, p in enumerate(procs):
                if p.poll() not in (None, 0):
                    first_failure, failed_at = rank, time.monotonic()
                    log(f"rank {rank} exited with {_describe(p.returncode)}: stopping the other ranks")
                    for other in procs:
                        if other.poll() is None:
                            other.send_signal(signal.SIGTERM)
                    break
        elif time.monotonic() - failed_at > _KILL_GRACE_S:
            for p in procs:
                if p.poll() is None:
                    p.kill()
        time.sleep(0.05)
    relay.join()
    if first_failure is None:
        first_failure = next((r for r, p in enumerate(procs) if p.returncode != 0), None)
    if first_failure is None:
        return EXIT_OK
    rank0 = procs[0].returncode
    if rank0 == EXIT_USER and relay.error is not None:  # bad spec or data: every rank says so, rank 0 speaks
        events.stream.write(relay.error)
        events.stream.flush()
        return EXIT_USER
    if first_failure == 0 and relay.error is not None:
        events.stream.write(relay.error)
        events.stream.flush()
        return EXIT_SYSTEM
    code = procs[first_failure].returncode
    events.emit("error", kind="system",
                message=f"rank {first_failure} of {nproc} exited with {_describe(code)}; the other ranks were stopped")
    return EXIT_SYSTEM


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the launcher dies (a killed worker leaves no ranks behind)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1


def _describe(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"code {code}"
