"""The safetensors reader/writer (the reference implementation's output is checked in test_parity)."""

from __future__ import annotations

import json
import os
import struct

import pytest
import torch

from sailfin_runtime.io import safetensors


def every_dtype():
    base = torch.randn(3, 5)
    return {
        "f64": base.double(), "f32": base, "f16": base.half(), "bf16": base.bfloat16(),
        "i64": torch.arange(-7, 8).reshape(3, 5), "i32": torch.arange(15, dtype=torch.int32), "i16": torch.arange(4, dtype=torch.int16),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8), "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]), "scalar": torch.tensor(2.5), "scalar_bf16": torch.tensor(-1.25).bfloat16(),
        "empty": torch.zeros(0, 4), "empty_bf16": torch.zeros(2, 0, dtype=torch.bfloat16),
        "noncontiguous": torch.arange(12.0).reshape(3, 4).t(),
    }


def test_round_trip_every_dtype(tmp_path):
    path = str(tmp_path / "t.safetensors")
    tensors = every_dtype()
    safetensors.save_file(tensors, path, metadata={"format": "pt", "note": "x"})
    back = safetensors.load_file(path)
    assert set(back) == set(tensors)
    for name, tensor in tensors.items():
        assert back[name].dtype == tensor.dtype, name
        assert back[name].shape == tensor.shape, name
        assert torch.equal(back[name], tensor), name
    assert safetensors.load_metadata(path) == {"format": "pt", "note": "x"}


def test_layout_header_padding_alignment_and_length(tmp_path):
    path = str(tmp_path / "t.safetensors")
    safetensors.save_file(every_dtype(), path)
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    assert n % 8 == 0
    end = 0
    for name, entry in header.items():
        begin, stop = entry["data_offsets"]
        itemsize = torch.empty(0, dtype=safetensors.torch_dtype(entry["dtype"])).element_size()
        assert begin % itemsize == 0, name  # naturally aligned
        end = max(end, stop)
    assert os.path.getsize(path) == 8 + n + end


def test_partial_load_and_sharded_index(tmp_path):
    a, b = {"x": torch.ones(2)}, {"y": torch.zeros(3, dtype=torch.bfloat16)}
    safetensors.save_file(a, str(tmp_path / "model-00001-of-00002.safetensors"))
    safetensors.save_file(b, str(tmp_path / "model-00002-of-00002.safetensors"))
    index = {"metadata": {}, "weight_map": {"x": "model-00001-of-00002.safetensors", "y": "model-00002-of-00002.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    weights = safetensors.load_model_folder(str(tmp_path))
    assert torch.equal(weights["x"], a["x"]) and torch.equal(weights["y"], b["y"])
    only = safetensors.load_file(str(tmp_path / "model-00001-of-00002.safetensors"), ["x"])
    assert list(only) == ["x"]


def test_corrupt_files_are_rejected(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", 10**6) + b"{}")
    with pytest.raises(safetensors.SafetensorsError, match="header length"):
        safetensors.load_file(str(path))
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
    with pytest.raises(safetensors.SafetensorsError, match="offsets"):
        safetensors.load_file(str(path))
    with pytest.raises(FileNotFoundError):
        safetensors.load_model_folder(str(tmp_path / "nowhere"))
