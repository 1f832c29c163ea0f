"""A self-contained safetensors reader and writer (no ``safetensors`` package).

Format: an 8-byte little-endian header length N, N bytes of JSON header
(``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}``),
then the raw little-endian tensor bytes, offsets relative to the end of the header.

The writer pads the header with spaces to a multiple of 8 and orders tensors by
element size (largest first), then name, so every tensor starts on a boundary of
its own element size and can be memory-mapped without copies. The reader maps the
file copy-on-write with ``np.memmap``: loading a checkpoint costs no read until a
tensor is touched.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Dict, Iterable, Mapping, Optional, Tuple

import numpy as np
import torch

# safetensors dtype -> (torch dtype, numpy dtype used to carry the bytes).
# numpy has no bfloat16: bf16 travels as int16 and is reinterpreted with Tensor.view.
_DTYPES: Dict[str, Tuple[torch.dtype, np.dtype]] = {
    "F64": (torch.float64, np.dtype("<f8")),
    "F32": (torch.float32, np.dtype("<f4")),
    "F16": (torch.float16, np.dtype("<f2")),
    "BF16": (torch.bfloat16, np.dtype("<i2")),
    "I64": (torch.int64, np.dtype("<i8")),
    "I32": (torch.int32, np.dtype("<i4")),
    "I16": (torch.int16, np.dtype("<i2")),
    "I8": (torch.int8, np.dtype("i1")),
    "U8": (torch.uint8, np.dtype("u1")),
    "BOOL": (torch.bool, np.dtype("?")),
}
_NAMES = {torch_dtype: name for name, (torch_dtype, _) in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024  # the reference implementation's limit


class SafetensorsError(ValueError):
    """The file is not a valid safetensors file (or holds a dtype this runtime does not read)."""


def dtype_name(dtype: torch.dtype) -> str:
    """The safetensors name of a torch dtype (``torch.bfloat16`` -> ``BF16``)."""
    if dtype not in _NAMES:
        raise SafetensorsError(f"dtype {dtype} cannot be stored in safetensors by this runtime")
    return _NAMES[dtype]


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype of a safetensors dtype name."""
    if name not in _DTYPES:
        raise SafetensorsError(f"unsupported safetensors dtype {name!r}")
    return _DTYPES[name][0]


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    t = tensor.detach().to("cpu").contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy()


def save_file(tensors: Mapping[str, torch.Tensor], path: str, metadata: Optional[Mapping[str, str]] = None) -> None:
    """Write tensors to ``path`` (atomically: a temp file renamed into place).

    Args:
        tensors: name -> tensor. Tensors must not share storage under two names
            (callers drop tied weights first, as Hugging Face does).
        path: destination file.
        metadata: optional string -> string map stored as ``__metadata__``.
    """
    order = sorted(tensors.items(), key=lambda kv: (-tensors[kv[0]].element_size(), kv[0]))
    header: Dict[str, object] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise SafetensorsError("metadata must map strings to strings")
        header["__metadata__"] = dict(metadata)
    offset = 0
    arrays = []
    for name, tensor in order:
        array = _to_numpy(tensor)
        header[name] = {"dtype": dtype_name(tensor.dtype), "shape": list(tensor.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
        arrays.append(array)
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for array in arrays:
            f.write(array.tobytes(order="C"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_header(path: str) -> Tuple[Dict[str, dict], Dict[str, str], int]:
    """Parse the header of a safetensors file.

    Returns:
        (tensor entries by name, metadata, byte offset where the data starts).
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise SafetensorsError(f"{path}: file too short")
        (n,) = struct.unpack("<Q", raw)
        if n > _MAX_HEADER or 8 + n > size:
            raise SafetensorsError(f"{path}: header length {n} is invalid for a {size}-byte file")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except ValueError as exc:
            raise SafetensorsError(f"{path}: header is not JSON: {exc}") from None
    metadata = header.pop("__metadata__", None) or {}
    data_start = 8 + n
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        count = int(np.prod(entry["shape"], dtype=np.int64))
        itemsize = _DTYPES[entry["dtype"]][1].itemsize if entry["dtype"] in _DTYPES else None
        if itemsize is None:
            raise SafetensorsError(f"{path}: tensor {name!r} has unsupported dtype {entry['dtype']!r}")
        if end - begin != count * itemsize or begin < 0 or data_start + end > size:
            raise SafetensorsError(f"{path}: tensor {name!r} has offsets {begin}..{end} that do not fit its shape or the file")
    return header, metadata, data_start


def load_file(path: str, names: Optional[Iterable[str]] = None) -> Dict[str, torch.Tensor]:
    """Read tensors from a safetensors file, memory-mapped copy-on-write.

    Args:
        path: the file.
        names: only these tensors (default: all).

    Returns:
        name -> CPU tensor. Tensors share pages with the file until written to.
    """
    header, _, data_start = read_header(path)
    wanted = list(header) if names is None else list(names)
    mapped = None
    if os.path.getsize(path) > data_start:
        mapped = np.memmap(path, dtype=np.uint8, mode="c", offset=data_start)
    out: Dict[str, torch.Tensor] = {}
    for name in wanted:
        entry = header[name]
        dtype, carrier = _DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        if end == begin:
            array = np.empty(entry["shape"], dtype=carrier)
        else:
            array = mapped[begin:end].view(carrier).reshape(entry["shape"])
        tensor = torch.from_numpy(array)
        out[name] = tensor.view(dtype) if dtype == torch.bfloat16 else tensor
    return out


def load_metadata(path: str) -> Dict[str, str]:
    """The ``__metadata__`` map of a safetensors file."""
    return read_header(path)[1]


def load_model_folder(folder: str) -> Dict[str, torch.Tensor]:
    """Every weight of a Hugging Face model folder.

    Reads ``model.safetensors``, or the shards listed in ``model.safetensors.index.json``,
    or (older folders) ``pytorch_model.bin``.

    Raises:
        FileNotFoundError: the folder has no weights in a known layout.
    """
    single = os.path.join(folder, "model.safetensors")
    if os.path.isfile(single):
        return load_file(single)
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.isfile(index):
        with open(index, encoding="utf-8") as f:
            weight_map: Dict[str, str] = json.load(f)["weight_map"]
        by_file: Dict[str, list] = {}
        for name, filename in weight_map.items():
            by_file.setdefault(filename, []).append(name)
        out: Dict[str, torch.Tensor] = {}
        for filename, names in sorted(by_file.items()):
            out.update(load_file(os.path.join(folder, filename), names))
        return out
    legacy = os.path.join(folder, "pytorch_model.bin")
    if os.path.isfile(legacy):
        from .._compat import torch_load

        return dict(torch_load(legacy))
    raise FileNotFoundError(f"no model.safetensors, model.safetensors.index.json or pytorch_model.bin in {folder}")


def load_weights(folder: str, field: str) -> Dict[str, torch.Tensor]:
    """``load_model_folder`` for a folder named by the spec: missing or corrupt weights are the spec's fault.

    Raises:
        UserError: naming ``field``.
    """
    from ..protocol import UserError

    try:
        return load_model_folder(folder)
    except (FileNotFoundError, SafetensorsError) as exc:
        raise UserError(str(exc), field) from None
