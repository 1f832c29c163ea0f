"""``python3 -m sailfin_runtime <finetune|export|quantize|generate|serve> --spec /abs/spec.json``.

``python3 -m sailfin_runtime serve --model DIR --host H --port P --served-model-name NAME ...``
starts the same engine from vLLM-like options (operator templates, people); see ``_serve_argv``.

``python3 -m sailfin_runtime launch --nproc N finetune --spec /abs/spec.json`` runs N
local data-parallel ranks of the finetune recipe (launch.py). A finetune process
started with WORLD_SIZE > 1 in its environment (by that launcher, torchrun or srun) is
one rank: only rank 0 writes events to stdout.

The spec is read and validated before torch is imported, so a bad spec fails in
milliseconds, and so OpenBLAS's thread count can still be chosen (it is read when
torch loads the library).
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional

from . import _compat
from .protocol import EventSink, StopFlag, UserError, run_guarded
from .spec import (
    read_export_spec, read_finetune_spec, read_generate_spec, read_quantize_spec, read_serve_spec, serve_spec_from,
)

RECIPES = ("finetune", "export", "quantize", "generate", "serve")
USAGE = (f"usage: python3 -m sailfin_runtime <{'|'.join(RECIPES)}> --spec /abs/path/spec.json\n"
         "       python3 -m sailfin_runtime launch --nproc N finetune --spec /abs/path/spec.json\n"
         "       python3 -m sailfin_runtime serve --model DIR [--host H] [--port P] [--served-model-name NAME]\n"
         "           [--api-key-file F] [--device D] [--dtype T] [--max-batch-size N] [--max-model-len N]")

# The vLLM-like serve options -> serve spec fields (values as strings; integers converted).
SERVE_OPTIONS = {"--model": "modelDir", "--host": "host", "--port": "port", "--served-model-name": "servedModelName",
                 "--api-key-file": "apiKeyFile", "--device": "device", "--dtype": "dtype",
                 "--max-batch-size": "maxBatchSize", "--max-model-len": "maxModelLen"}
_INTEGER_OPTIONS = ("port", "maxBatchSize", "maxModelLen")


def _parse(argv: List[str]) -> tuple:
    if argv[:1] == ["serve"] and argv[1:2] != ["--spec"]:
        return "serve", None
    if len(argv) != 3 or argv[0] not in RECIPES or argv[1] != "--spec":
        raise UserError(USAGE, "argv")
    return argv[0], argv[2]


def _serve_argv(argv: List[str]):
    """``serve --model DIR ...`` as a serve spec (``--model`` made absolute; the name defaults to it, as in vLLM)."""
    raw = {"version": 1}
    if len(argv) % 2:
        raise UserError(f"every option takes one value\n{USAGE}", "argv")
    for flag, value in zip(argv[::2], argv[1::2]):
        key = SERVE_OPTIONS.get(flag)
        if key is None:
            raise UserError(f"unknown option {flag}\n{USAGE}", "argv")
        if key in _INTEGER_OPTIONS:
            try:
                raw[key] = int(value)
            except ValueError:
                raise UserError(f"must be an integer, got {value!r}", flag) from None
        elif key in ("modelDir", "apiKeyFile"):
            raw[key] = os.path.abspath(value)
        else:
            raw[key] = value
    if "modelDir" not in raw:
        raise UserError(f"--model is required\n{USAGE}", "argv")
    raw.setdefault("servedModelName", raw["modelDir"])
    return serve_spec_from(raw)


def _is_oom(exc: BaseException) -> bool:
    if "torch" not in sys.modules:  # torch itself failed to import
        return isinstance(exc, MemoryError)
    return _compat.is_out_of_memory(exc)


def _event_channel():
    """stdout for events alone: fd 1 then points at stderr, so what native code prints cannot break the JSON lines.

    torch 2.x's gloo prints "[Gloo] Rank 0 is connected to 1 peer ranks" on fd 1 when a
    process group starts; Python-level prints go to stderr too (``sys.stdout``).
    """
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def main(argv: Optional[List[str]] = None) -> int:
    """Run one recipe; returns the protocol's exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["launch"]:
        return _launch(argv[1:])
    # Ranks other than 0 of a data-parallel run stay silent: rank 0 speaks for the run.
    silent = int(os.environ.get("WORLD_SIZE", "1") or "1") > 1 and os.environ.get("RANK", "0") != "0"
    channel = _event_channel()  # on every rank: a silent rank's native prints must not reach a shared stdout either
    events = EventSink(stream=open(os.devnull, "w") if silent else channel)
    stop = StopFlag().install()

    def body() -> None:
        recipe, spec_path = _parse(argv)
        if recipe == "finetune":
            spec = read_finetune_spec(spec_path)
            _compat.configure_blas_env(spec.precision)
            from .distributed import World
            from .recipes import finetune

            world = World.from_env()
            try:
                finetune.run(spec, events, stop, world)
            finally:
                world.close()
        elif recipe == "export":
            export_spec = read_export_spec(spec_path)
            _compat.configure_blas_env("fp32")
            from .recipes import export

            export.run(export_spec, events)
        elif recipe == "quantize":
            quantize_spec = read_quantize_spec(spec_path)
            _compat.configure_blas_env("fp32")
            from .recipes import quantize

            quantize.run(quantize_spec, events, stop)
        elif recipe == "serve":
            serve_spec = read_serve_spec(spec_path) if spec_path is not None else _serve_argv(argv[1:])
            _compat.configure_blas_env("bf16" if serve_spec.dtype == "bfloat16" else "fp32")
            from .recipes import serve

            serve.run(serve_spec, events, stop)
        else:
            generate_spec = read_generate_spec(spec_path)
            # bf16 runs on oneDNN's OpenMP threads, everything else on OpenBLAS's (see _compat).
            _compat.configure_blas_env("bf16" if generate_spec.dtype == "bfloat16" else "fp32")
            from .recipes import generate

            generate.run(generate_spec, events, stop)

    return run_guarded(events, body, _is_oom)


def _launch(argv: List[str]) -> int:
    """``launch --nproc N finetune --spec path``: the ranks' exit code, or the launcher's own error's."""
    from . import launch

    events = EventSink()
    result = {"code": 0}

    def body() -> None:
        nproc, spec_path = launch.parse(argv)
        read_finetune_spec(spec_path)  # a bad spec fails once, here, not in every rank
        result["code"] = launch.run(nproc, spec_path, events)

    code = run_guarded(events, body, _is_oom)
    return code if code != 0 else result["code"]


if __name__ == "__main__":
    sys.exit(main())
