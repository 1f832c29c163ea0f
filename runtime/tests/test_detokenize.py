"""The serving detokenizer (tokenizer.json -> text, incrementally) and text stop strings."""

from __future__ import annotations

import pytest

from serving_fixtures import byte_level_tokenizer, sentencepiece_tokenizer
from sailfin_runtime.serving.detokenize import Detokenizer, TextStream, _byte_to_unicode
from sailfin_runtime.serving.stops import StopText


def stream_deltas(detokenizer, ids, at_start=False):
    stream = TextStream(detokenizer, at_start=at_start)
    return [stream.add(i) for i in ids] + [stream.finish()]


def test_byte_level_pieces_merges_and_added_tokens():
    d = Detokenizer(byte_level_tokenizer())
    table = _byte_to_unicode()
    # "Ġthe" (262) is " the"; "Ġsailfin" (299); plain added token <think> (298) is its content; specials vanish.
    ids = [ord("H"), ord("i"), 262, 299, 298, 296, 297, ord("!")]
    assert d.decode(ids) == "Hi the sailfin<think>!"
    assert table[ord(" ")] == "Ġ" and d.token_bytes(256) == b" t"


def test_byte_level_multibyte_utf8_split_across_tokens_is_emitted_once_whole():
    d = Detokenizer(byte_level_tokenizer())
    text = "é中🙂"
    ids = list(text.encode("utf-8"))  # byte ids: each character is split over 2, 3 and 4 tokens
    deltas = stream_deltas(d, ids)
    assert "".join(deltas) == text
    assert [x for x in deltas if x] == ["é", "中", "🙂"]  # nothing until a character is complete
    assert "\ufffd" not in "".join(deltas)
    # An unfinished sequence at the end becomes one replacement character, at finish.
    assert stream_deltas(d, list("中".encode())[:2]) == ["", "", "\ufffd"]
    # Invalid bytes are replaced, not held forever.
    assert d.decode([0xFF, ord("a")]) == "\ufffda"


@pytest.mark.parametrize("decoder", ["sequence", "metaspace"])
def test_sentencepiece_style_spaces_byte_fallback_and_leading_strip(decoder):
    d = Detokenizer(sentencepiece_tokenizer(decoder))
    hello, world, bang, sail, fin = 259, 260, 261, 265, 266
    e_acute = [3 + 0xC3, 3 + 0xA9]  # <0xC3><0xA9>: é by byte fallback
    ids = [1, hello, world, bang, *e_acute, sail, fin, 2]
    assert d.decode(ids) == "Hello world!é Sailfin"  # a text's first space stripped, <s> </s> skipped
    # A completion continues its prompt: the first token keeps its space (vLLM's incremental output).
    deltas = stream_deltas(d, [world, bang, *e_acute])
    assert deltas == [" world", "!", "", "é", ""]


def test_unsupported_decoders_are_refused_by_name():
    tokenizer = byte_level_tokenizer()
    tokenizer["decoder"] = {"type": "WordPiece"}
    with pytest.raises(ValueError, match="WordPiece"):
        Detokenizer(tokenizer)
    with pytest.raises(ValueError, match="model.vocab"):
        Detokenizer({"model": {}})


def test_stop_strings_hold_back_partial_matches_and_never_emit_the_stop():
    stops = StopText(["END", "xyz"])
    assert stops.feed("abc E") == ("abc ", False)  # "E" may begin END
    assert stops.feed("N") == ("", False)
    assert stops.feed("Dtail") == ("", True)  # END completed: nothing of it, nothing after
    stops = StopText(["END"])
    assert stops.feed("E") == ("", False)
    assert stops.feed("x") == ("Ex", False)  # not a stop after all: released
    assert stops.feed("EN") == ("", False)
    assert stops.flush() == "EN"  # the output ended otherwise: held text is emitted
    stops = StopText(["b", "abc"])
    assert stops.feed("xxabc") == ("xx", True)  # the stop that begins first wins ("abc" before "b")
    assert StopText([]).feed("anything") == ("anything", False)
