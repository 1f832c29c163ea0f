"""Memory-mapped reader of the token shards written by ``packages/data``.

A split is a folder with ``manifest.json`` and, per shard, ``<name>.ids.u32``,
``<name>.mask.u8``, ``<name>.seg.u16`` (and ``<name>.kto.u8`` for KTO): fixed
``seqLen``-token rows, little-endian, row-major (docs/runtime-protocol.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

from ..protocol import UserError

FORMAT = "sailfin-shards/1"
KIND_FOR_MODE = {"SFT": "packed", "PostPretrain": "packed", "DPO": "preference", "KTO": "kto"}
_FILES = {"ids": ("ids.u32", np.dtype("<u4")), "mask": ("mask.u8", np.dtype("u1")), "seg": ("seg.u16", np.dtype("<u2"))}


@dataclass
class Rows:
    """A batch of rows as numpy arrays, ``[n, seqLen]`` each (``kto``: ``[n]``)."""

    ids: np.ndarray
    mask: np.ndarray
    seg: np.ndarray
    kto: Optional[np.ndarray] = None


class Split:
    """One split (train or validation), rows addressed by a global row index.

    Args:
        path: the split folder.
        field: the spec field naming it (``data.train``), used in error messages.
    """

    def __init__(self, path: str, field: str):
        self.path = path
        self.field = field
        manifest_path = os.path.join(path, "manifest.json")
        try:
            with open(manifest_path, encoding="utf-8") as f:
                self.manifest: Dict = json.load(f)
        except FileNotFoundError:
            raise UserError(f"no manifest.json in {path}", field) from None
        except ValueError as exc:
            raise UserError(f"manifest.json is not valid JSON: {exc}", field) from None
        m = self.manifest
        if m.get("format") != FORMAT:
            raise UserError(f"manifest format {m.get('format')!r} is not {FORMAT!r}", field)
        self.kind: str = m.get("kind")
        if self.kind not in ("packed", "preference", "kto"):
            raise UserError(f"manifest kind {self.kind!r} is not packed, preference or kto", field)
        self.seq_len = int(m.get("seqLen", 0))
        self.pad_id = int(m.get("padId", 0))
        if self.seq_len < 2:
            raise UserError(f"manifest seqLen {self.seq_len} must be at least 2", field)
        self.content_hash: str = str(m.get("contentHash", ""))
        self._shards: List[Dict[str, np.ndarray]] = []
        starts = [0]
        for shard in m.get("shards", []):
            rows = int(shard["rows"])
            if rows == 0:
                continue
            self._shards.append(self._map_shard(shard["name"], rows))
            starts.append(starts[-1] + rows)
        self._starts = np.array(starts, dtype=np.int64)
        self.rows = int(starts[-1])
        if self.rows != int(m.get("rows", -1)):
            raise UserError(f"manifest says {m.get('rows')} rows but its shards hold {self.rows}", field)
        if self.kind != "packed" and self.rows % 2:
            raise UserError(f"a {self.kind} split needs an even row count (chosen, rejected pairs), got {self.rows}", field)

    def _map_shard(self, name: str, rows: int) -> Dict[str, np.ndarray]:
        files = dict(_FILES)
        if self.kind == "kto":
            files["kto"] = ("kto.u8", np.dtype("u1"))
        arrays = {}
        for key, (suffix, dtype) in files.items():
            file = os.path.join(self.path, f"{name}.{suffix}")
            per_row = 1 if key == "kto" else self.seq_len
            expected = rows * per_row * dtype.itemsize
            try:
                size = os.path.getsize(file)
            except OSError:
                raise UserError(f"shard file missing: {file}", self.field) from None
            if size != expected:
                raise UserError(f"{file} holds {size} bytes, expected {expected} ({rows} rows x {per_row} x {dtype.itemsize})", self.field)
            shape = (rows,) if key == "kto" else (rows, self.seq_len)
            arrays[key] = np.memmap(file, dtype=dtype, mode="r", shape=shape)
        return arrays

    def get(self, indices: np.ndarray) -> Rows:
        """Rows at these global indices, in this order (copied out of the maps)."""
        indices = np.asarray(indices, dtype=np.int64)
        shard_of = np.searchsorted(self._starts, indices, side="right") - 1
        out = {key: [] for key in self._shards[0]} if self._shards else {}
        for i, s in zip(indices, shard_of):
            local = i - self._starts[s]
            for key, array in self._shards[s].items():
                out[key].append(array[local])
        return Rows(
            ids=np.stack(out["ids"]).astype(np.int64),
            mask=np.stack(out["mask"]),
            seg=np.stack(out["seg"]).astype(np.int64),
            kto=np.array(out["kto"], dtype=np.int64) if "kto" in out else None,
        )

    def scan(self, vocab_size: int) -> int:
        """Check every token id against the model's vocabulary; count trained tokens.

        Streams shard by shard (a few GB/s), so RSS stays flat in the data size.

        Returns:
            Tokens the loss is taken on per epoch (``trained_targets`` of every row).

        Raises:
            UserError: a token id is not below ``vocab_size``.
        """
        trained = 0
        chunk = 4096
        for shard in self._shards:
            for begin in range(0, shard["ids"].shape[0], chunk):
                ids = shard["ids"][begin:begin + chunk]
                top = int(ids.max())
                if top >= vocab_size:
                    raise UserError(
                        f"token id {top} is outside the model's vocabulary (vocab_size {vocab_size}): "
                        "the data was tokenized with a different tokenizer than modelDir's", self.field)
                seg = shard["seg"][begin:begin + chunk].astype(np.int64)
                trained += int(trained_targets(shard["mask"][begin:begin + chunk], seg).sum())
        return trained


def trained_targets(mask: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Which next-token targets carry loss: ``[n, seqLen - 1]`` bool for targets 1..seqLen-1.

    Target ``t`` is trained when ``mask[t] == 1``, it lies in a sample (``seg[t] > 0``)
    and token ``t - 1`` is in the same sample (predictions never cross a packing boundary).
    """
    return (mask[:, 1:] == 1) & (seg[:, 1:] > 0) & (seg[:, 1:] == seg[:, :-1])


def open_split(path: Optional[str], field: str, train_mode: str) -> Optional[Split]:
    """Open a split and check its kind fits the train mode (None passes through)."""
    if path is None:
        return None
    split = Split(path, field)
    expected = KIND_FOR_MODE[train_mode]
    if split.kind != expected:
        raise UserError(f"{train_mode} needs {expected} shards, but this split is {split.kind}", field)
    return split
