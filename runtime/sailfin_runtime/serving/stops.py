"""Text stop strings on decoded text: what may be emitted now, and whether a stop was hit.

Text that could still turn out to be the start of a stop string is held back until the
next characters tell; a stop string itself, and everything after it, is never emitted.
"""

from __future__ import annotations

from typing import Sequence, Tuple


class StopText:
    """Args: stops: the request's stop strings (non-empty)."""

    def __init__(self, stops: Sequence[str]):
        self.stops = tuple(stops)
        self.held = ""

    def feed(self, text: str) -> Tuple[str, bool]:
        """New decoded text -> (text safe to emit, True when a stop string ended the output)."""
        if not self.stops:
            return text, False
        buffer = self.held + text
        hits = [i for i in (buffer.find(stop) for stop in self.stops) if i >= 0]
        if hits:
            self.held = ""
            return buffer[:min(hits)], True
        keep = 0  # the longest tail of the buffer that begins some stop string
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(buffer)), keep, -1):
                if stop.startswith(buffer[-size:]):
                    keep = size
                    break
        self.held = buffer[len(buffer) - keep:]
        return buffer[:len(buffer) - keep], False

    def flush(self) -> str:
        """The held-back text, once the output ended some other way (eos, length)."""
        held, self.held = self.held, ""
        return held
