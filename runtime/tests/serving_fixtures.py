"""tokenizer.json fixtures for the serving tests: byte-level BPE (Qwen/Llama 3 style) and
SentencePiece-style (Llama 2/Mistral/Gemma decoders), small but in the real files' shape."""

from __future__ import annotations

import json
import os
from typing import Dict

from sailfin_runtime.serving.detokenize import _byte_to_unicode

EOS = 296  # the byte-level fixture's <|endoftext|>


def byte_level_tokenizer() -> Dict:
    """300 ids: the 256 bytes, 40 merged pieces, two special tokens, one plain added token, one piece."""
    table = _byte_to_unicode()
    vocab = {table[b]: b for b in range(256)}
    merges = ["Ġt", "he", "in", "Ġa", "er", "on", "Ġthe", "re", "at", "en", "Ġs", "or", "es", "it", "is", "Ġw", "al",
              "Ġo", "an", "ing", "Ġc", "ed", "ar", "Ġb", "ic", "ou", "Ġf", "le", "Ġp", "Ġm", "ion", "ro", "Ġin", "as",
              "Ġd", "Ġh", "el", "ent", "Ġl", "st"]
    for i, piece in enumerate(merges):
        vocab[piece] = 256 + i
    vocab["Ġsailfin"] = 299
    added = [{"id": 296, "content": "<|endoftext|>", "special": True}, {"id": 297, "content": "<|im_end|>", "special": True},
             {"id": 298, "content": "<think>", "special": False}]
    return {"version": "1.0", "added_tokens": added, "pre_tokenizer": {"type": "ByteLevel"},
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "vocab": vocab, "merges": []}}


def sentencepiece_tokenizer(decoder: str = "sequence") -> Dict:
    """Llama 2's layout: <unk> <s> </s>, the 256 <0xNN> byte pieces, then ▁-prefixed pieces."""
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = 3 + b
    for i, piece in enumerate(["▁Hello", "▁world", "!", "▁the", "ing", "▁", "▁Sail", "fin"]):
        vocab[piece] = 259 + i
    added = [{"id": 0, "content": "<unk>", "special": True}, {"id": 1, "content": "<s>", "special": True},
             {"id": 2, "content": "</s>", "special": True}]
    if decoder == "metaspace":
        spec = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    else:
        spec = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return {"version": "1.0", "added_tokens": added, "decoder": spec,
            "model": {"type": "BPE", "vocab": vocab, "merges": [], "byte_fallback": True}}


def write_tokenizer(model_dir: str, tokenizer: Dict) -> None:
    with open(os.path.join(model_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
