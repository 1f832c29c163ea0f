"""Files of a Hugging Face model folder other than what a recipe writes itself.

A recipe that writes a new model folder (export, quantize) writes ``config.json``
and ``model.safetensors`` and copies everything else from the source folder:
tokenizer, generation config, chat template, licence...
"""

from __future__ import annotations

import json
import os
import shutil

# Never copied from the source folder: they are replaced by the new weights and config.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
_NOT_COPIED_SUFFIXES = WEIGHT_SUFFIXES + (".index.json",)
_WRITTEN = ("config.json", "model.safetensors")


def copy_side_files(source_dir: str, out_dir: str) -> None:
    """Tokenizer, generation config, licence, chat template...: everything but weights and config."""
    for entry in sorted(os.listdir(source_dir)):
        src = os.path.join(source_dir, entry)
        if not os.path.isfile(src) or entry in _WRITTEN or entry.endswith(_NOT_COPIED_SUFFIXES) or ".tmp-" in entry:
            continue
        shutil.copyfile(src, os.path.join(out_dir, entry))


def weight_bytes(folder: str) -> int:
    """Bytes of the model weights the folder is loaded from (the same files ``load_model_folder`` reads).

    Checkpoint extras (``optimizer.pt``...) are not counted.
    """
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.isfile(index):
        with open(index, encoding="utf-8") as f:
            files = set(json.load(f)["weight_map"].values())
    else:
        files = {name for name in ("model.safetensors", "pytorch_model.bin") if os.path.isfile(os.path.join(folder, name))}
        files = set(sorted(files)[:1])  # model.safetensors wins, as in load_model_folder
    return sum(os.path.getsize(os.path.join(folder, name)) for name in files)
