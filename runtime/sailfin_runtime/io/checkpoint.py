"""The checkpoint folder layout: ``<outputDir>/checkpoints/step_000100/``.

A checkpoint is written into ``step_000100.tmp-<random>/``, fsynced, and renamed
into place, so a reader never sees a half-written one; ``*.tmp-*`` folders left by
a crash are deleted when the next run starts. Only the newest ``keep`` checkpoints
survive a save.

Files (docs/runtime-protocol.md): ``model.safetensors`` + ``config.json`` (full) or
``adapter_model.safetensors`` + ``adapter_config.json`` (LoRA), ``optimizer.pt``,
``scheduler.pt``, ``trainer_state.json``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from typing import Callable, List, Optional

CHECKPOINTS = "checkpoints"
STATE_FILE = "trainer_state.json"
_NAME = re.compile(r"^step_(\d{6,})$")


def checkpoint_name(step: int) -> str:
    """``step_000100``: the step zero-padded to 6 digits."""
    return f"step_{step:06d}"


def checkpoint_root(output_dir: str) -> str:
    return os.path.join(output_dir, CHECKPOINTS)


def remove_partial(root: str) -> List[str]:
    """Delete ``*.tmp-*`` folders a crashed run left behind.

    Returns:
        The removed paths.
    """
    removed = []
    if os.path.isdir(root):
        for entry in os.listdir(root):
            if ".tmp-" in entry:
                path = os.path.join(root, entry)
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def list_checkpoints(root: str) -> List[str]:
    """Complete checkpoints under ``root``, oldest first (temp folders are never listed)."""
    if not os.path.isdir(root):
        return []
    found = []
    for entry in os.listdir(root):
        match = _NAME.match(entry)
        path = os.path.join(root, entry)
        if match and os.path.isfile(os.path.join(path, STATE_FILE)):
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def _fsync_tree(folder: str) -> None:
    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        if os.path.isfile(path):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_checkpoint(root: str, step: int, write: Callable[[str], None], keep: int) -> str:
    """Write one checkpoint atomically and prune old ones.

    Args:
        root: the checkpoints folder (created if needed).
        step: the optimizer step the checkpoint holds.
        write: fills the given (temporary) folder with the checkpoint's files.
        keep: how many of the newest checkpoints to keep (this one included).

    Returns:
        The final absolute path. When a complete checkpoint for ``step`` already
        exists (a run stopped right after resuming) it is kept and returned as is.
    """
    os.makedirs(root, exist_ok=True)
    final = os.path.abspath(os.path.join(root, checkpoint_name(step)))
    if os.path.isfile(os.path.join(final, STATE_FILE)):
        return final
    tmp = f"{final}.tmp-{secrets.token_hex(4)}"
    os.makedirs(tmp)
    try:
        write(tmp)
        _fsync_tree(tmp)
        if os.path.isdir(final):  # an incomplete folder without trainer_state.json
            shutil.rmtree(final)
        os.rename(tmp, final)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(root)[:-keep]:
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def read_state(folder: str) -> Optional[dict]:
    """``trainer_state.json`` of a checkpoint, or None when the folder has none (an external adapter)."""
    path = os.path.join(folder, STATE_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(folder: str, name: str, data: dict) -> None:
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
