"""Token ids -> text with a model folder's ``tokenizer.json``, incrementally (the engine streams).

Each id maps to the bytes it stands for, once, at load:

- byte-level BPE (GPT-2, Qwen, Llama 3: decoder ``ByteLevel``): each character of the token
  is one byte through GPT-2's byte-to-unicode table;
- SentencePiece-style (Llama 2, Mistral, Gemma: decoder ``Sequence`` of ``Replace("▁", " ")``,
  ``ByteFallback``, ``Fuse``, ``Strip``; or ``Metaspace``): ``▁`` is a space and ``<0xNN>`` is
  the byte NN;
- added tokens that are not special: their content; special ones (eos, chat markers): nothing.

Bytes then go through an incremental UTF-8 decoder, so a character split across tokens is
emitted once whole, never as a replacement character (invalid bytes do become U+FFFD).
``Strip``/Metaspace's leading-space removal applies to a text's first token only: a completion
continues its prompt, so ``TextStream`` keeps that space (as vLLM's incremental detokenizer does).
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, Dict, List, Optional, Sequence

_BYTE_TOKEN = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def _byte_to_unicode() -> Dict[int, str]:
    """GPT-2's table: printable bytes stand for themselves, the others for chars from U+0100 on."""
    kept = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in kept:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


_UNICODE_TO_BYTE = {c: b for b, c in _byte_to_unicode().items()}


def _byte_level(token: str) -> bytes:
    return bytes(_UNICODE_TO_BYTE[c] for c in token) if all(c in _UNICODE_TO_BYTE for c in token) else token.encode("utf-8")


class _PieceDecoder:
    """SentencePiece-style steps of a decoder ``Sequence`` (or ``Metaspace``), per token."""

    def __init__(self, replacements: List[tuple], byte_fallback: bool, strip_start: int):
        self.replacements = replacements
        self.byte_fallback = byte_fallback
        self.strip_start = strip_start  # leading spaces the first token of a text loses

    def __call__(self, token: str) -> bytes:
        if self.byte_fallback:
            match = _BYTE_TOKEN.match(token)
            if match:
                return bytes([int(match.group(1), 16)])
        for old, new in self.replacements:
            token = token.replace(old, new)
        return token.encode("utf-8")


def _decoder_of(spec: Optional[Dict[str, Any]], byte_fallback_model: bool):
    """(per-token bytes function, leading spaces a text's first token loses)."""
    if spec is None:  # no decoder: the tokens are the text (byte fallback still applies)
        return _PieceDecoder([], byte_fallback_model, 0), 0
    kind = spec.get("type")
    if kind == "ByteLevel":
        return _byte_level, 0
    if kind == "Metaspace":
        replacement = spec.get("replacement", "▁")
        prepend = spec.get("prepend_scheme", "always" if spec.get("add_prefix_space", True) else "never") != "never"
        return _PieceDecoder([(replacement, " ")], byte_fallback_model, 1 if prepend else 0), 1 if prepend else 0
    if kind == "Sequence":
        steps = spec.get("decoders") or []
        kinds = [step.get("type") for step in steps]
        if "ByteLevel" in kinds:
            return _byte_level, 0
        replacements, byte_fallback, strip = [], False, 0
        for step in steps:
            name = step.get("type")
            if name == "Replace":
                pattern = step.get("pattern", {})
                if "String" not in pattern:
                    raise ValueError("tokenizer.json: a Replace decoder with a regex pattern is not supported")
                replacements.append((pattern["String"], step.get("content", "")))
            elif name == "ByteFallback":
                byte_fallback = True
            elif name == "Strip":
                if step.get("content", " ") == " ":
                    strip = int(step.get("start", 0))
            elif name == "Metaspace":
                replacements.append((step.get("replacement", "▁"), " "))
                strip = 1 if step.get("prepend_scheme", "always") != "never" else 0
            elif name != "Fuse":
                raise ValueError(f"tokenizer.json: decoder step {name!r} is not supported")
        return _PieceDecoder(replacements, byte_fallback, strip), strip
    raise ValueError(f"tokenizer.json: decoder {kind!r} is not supported (ByteLevel, Metaspace or a Sequence of "
                     "Replace/ByteFallback/Fuse/Strip are)")


class Detokenizer:
    """Token id -> bytes, from a ``tokenizer.json`` object (``Detokenizer.from_file`` for a path).

    Raises:
        ValueError: a tokenizer this module cannot decode (the message says which part).
    """

    def __init__(self, tokenizer: Dict[str, Any]):
        model = tokenizer.get("model") or {}
        vocab = model.get("vocab")
        if isinstance(vocab, dict):
            pieces = {int(i): token for token, i in vocab.items()}
        elif isinstance(vocab, list):  # Unigram: [[piece, score], ...], the id is the index
            pieces = {i: entry[0] for i, entry in enumerate(vocab)}
        else:
            raise ValueError("tokenizer.json has no model.vocab")
        to_bytes, self.strip_start = _decoder_of(tokenizer.get("decoder"), bool(model.get("byte_fallback")))
        self.pieces: Dict[int, bytes] = {i: to_bytes(token) for i, token in pieces.items()}
        self.special: set = set()
        for added in tokenizer.get("added_tokens") or []:
            token_id = int(added["id"])
            if added.get("special"):
                self.special.add(token_id)
                self.pieces.pop(token_id, None)
            else:
                self.pieces[token_id] = str(added.get("content", "")).encode("utf-8")

    @classmethod
    def from_file(cls, path: str) -> "Detokenizer":
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def token_bytes(self, token_id: int) -> bytes:
        """What one id stands for; special tokens and ids outside the vocabulary stand for nothing."""
        return self.pieces.get(token_id, b"")

    def decode(self, ids: Sequence[int]) -> str:
        """A whole text, as ``tokenizer.decode(ids, skip_special_tokens=True)`` gives it."""
        stream = TextStream(self, at_start=True)
        return "".join(stream.add(i) for i in ids) + stream.finish()


class TextStream:
    """One output's text, token by token: ``add`` returns only newly complete characters.

    Args:
        detokenizer: the model's.
        at_start: True when the first token begins a text (its leading space is stripped where
            the decoder says so); False for a continuation of a prompt.
    """

    def __init__(self, detokenizer: Detokenizer, at_start: bool = False):
        self.detokenizer = detokenizer
        self.utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.strip = detokenizer.strip_start if at_start else 0

    def add(self, token_id: int) -> str:
        text = self.utf8.decode(self.detokenizer.token_bytes(token_id))
        while self.strip and text:
            if text[0] == " ":
                text = text[1:]
            self.strip -= 1
        return text

    def finish(self) -> str:
        """What an unfinished UTF-8 sequence at the end leaves (U+FFFD), else ''."""
        return self.utf8.decode(b"", final=True)
