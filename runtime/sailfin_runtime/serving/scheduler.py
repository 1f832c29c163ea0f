"""Continuous batching: one thread runs the model for every request in flight.

Between two decoding steps, waiting requests are prefilled (together, left-padded, in a
cache of their own) and their rows join the running batch: the shorter of the two caches
gets leading padding (``KVCache.pad_leading``) and the attention mask marks it, so a row's
logits are those it would get alone (``generation.py``'s guarantee, kept across joins).
Finished or cancelled rows leave the batch at once (``KVCache.select_rows``), and padding
columns no remaining row needs are cut off.

Each request has its own sampling settings and random stream; tokens are picked with
``generation.py``'s code (penalty, temperature, top-k, top-p), greedy rows without a penalty
together in one argmax. The HTTP threads never touch torch: they submit a ``Request`` and
read its ``events`` queue.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..generation import Settings, pick_tokens
from .detokenize import Detokenizer, TextStream
from .stops import StopText


@dataclass
class Request:
    """One completion in flight. The HTTP side fills the settings and reads ``events``:
    ``("delta", text, finish_reason | None)`` ..., then ``("usage", prompt, completion)``, or
    ``("error", status, message)`` when the engine stops under it."""

    prompt: List[int]
    max_tokens: int
    settings: Settings  # max_new_tokens unused; do_sample, temperature, top_k, top_p, repetition_penalty
    rng: Optional[np.random.Generator]
    stop_ids: frozenset
    stop_texts: Tuple[str, ...]
    events: "queue.Queue[tuple]" = field(default_factory=queue.Queue)
    cancelled: bool = False
    # Scheduler state.
    generated: List[int] = field(default_factory=list)
    pending: int = -1  # the last picked token, fed at the next step
    seen: Optional[torch.Tensor] = None
    text: Optional[TextStream] = None
    stops: Optional[StopText] = None

    def cancel(self) -> None:
        """The client went away: the scheduler drops the row before its next step."""
        self.cancelled = True


class Scheduler:
    """Owns the model; ``submit`` from any thread, ``run`` on the engine thread.

    Args:
        model: a ``CausalLM`` in eval mode.
        detokenizer: the model folder's.
        max_batch_size: rows decoded together; more requests wait.
    """

    def __init__(self, model: Any, detokenizer: Detokenizer, max_batch_size: int):
        self.model = model
        self.detokenizer = detokenizer
        self.max_batch_size = max_batch_size
        self.device = model.model.embed_tokens.weight.device
        self.vocab = model.config.vocab_size
        self.waiting: "queue.Queue[Request]" = queue.Queue()
        self.stopping = threading.Event()
        self.rows: List[Request] = []
        self.cache = None
        self.mask: Optional[torch.Tensor] = None  # [rows, cached positions], 1 for tokens

    def submit(self, request: Request) -> bool:
        """Queue a request; False once the engine is stopping."""
        if self.stopping.is_set():
            return False
        self.waiting.put(request)
        return True

    @property
    def active(self) -> int:
        """Rows in the running batch (tests and logs)."""
        return len(self.rows)

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """The engine loop, until ``stop``: every request in flight then gets an error event."""
        with torch.no_grad():
            while not self.stopping.is_set():
                self._keep(lambda r: not r.cancelled)
                joining = self._admit()
                if joining:
                    self._prefill(joining)
                elif self.rows:
                    self._decode()
        for request in self.rows + self._drain():
            request.events.put(("error", 503, "the engine is stopping"))
        self.rows, self.cache, self.mask = [], None, None

    def _drain(self) -> List[Request]:
        drained = []
        while True:
            try:
                drained.append(self.waiting.get_nowait())
            except queue.Empty:
                return drained

    def _admit(self) -> List[Request]:
        """Waiting requests that fit in the batch now (blocks briefly when nothing runs)."""
        joining: List[Request] = []
        while len(self.rows) + len(joining) < self.max_batch_size:
            try:
                if self.rows or joining:
                    request = self.waiting.get_nowait()
                else:
                    request = self.waiting.get(timeout=0.05)
            except queue.Empty:
                break
            if not request.cancelled:
                joining.append(request)
        return joining

    def _prefill(self, joining: List[Request]) -> None:
        """Feed the joining prompts, pick their first tokens, and merge their rows into the batch."""
        width = max(len(r.prompt) for r in joining)
        ids = torch.zeros((len(joining), width), dtype=torch.long)
        mask = torch.zeros((len(joining), width), dtype=torch.long)
        for i, request in enumerate(joining):
            ids[i, width - len(request.prompt):] = torch.tensor(request.prompt, dtype=torch.long)
            mask[i, width - len(request.prompt):] = 1
            request.text = TextStream(self.detokenizer)
            request.stops = StopText(request.stop_texts)
            if request.settings.repetition_penalty != 1.0:
                request.seen = torch.zeros((1, self.vocab), dtype=torch.bool, device=self.device)
                request.seen[0, torch.tensor(request.prompt, device=self.device)] = True
        ids, mask = ids.to(self.device), mask.to(self.device)
        cache = self.model.new_cache()
        logits = self.model.next_token_logits(ids, attention_mask=mask, cache=cache)
        keep = self._take(joining, logits)
        if not keep:
            return
        if len(keep) < len(joining):
            index = torch.tensor(keep, dtype=torch.long, device=self.device)
            cache.select_rows(index)
            mask = mask[index]
        joining = [joining[i] for i in keep]
        if not self.rows:
            self.rows, self.cache, self.mask = joining, cache, mask
            return
        longer = self.cache.length - cache.length
        if longer > 0:  # the new rows are shorter: padding before them
            cache.pad_leading(longer)
            mask = torch.cat((torch.zeros_like(mask[:, :1]).expand(-1, longer), mask), dim=1)
        elif longer < 0:
            self.cache.pad_leading(-longer)
            self.mask = torch.cat((torch.zeros_like(self.mask[:, :1]).expand(-1, -longer), self.mask), dim=1)
        self.cache.append_rows(cache)
        self.mask = torch.cat((self.mask, mask), dim=0)
        self.rows = self.rows + joining

    def _decode(self) -> None:
        """One step: every running row's pending token in, its next token out."""
        step = torch.tensor([r.pending for r in self.rows], dtype=torch.long, device=self.device)[:, None]
        self.mask = torch.cat((self.mask, torch.ones_like(self.mask[:, :1])), dim=1)
        logits = self.model.next_token_logits(step, attention_mask=self.mask, cache=self.cache)
        keep = self._take(self.rows, logits)
        if len(keep) < len(self.rows):
            self._keep_indices(keep)

    def _take(self, rows: Sequence[Request], logits: torch.Tensor) -> List[int]:
        """Pick each row's token and hand it to its request; the indices of rows still going."""
        picked = [0] * len(rows)
        plain = [i for i, r in enumerate(rows) if not r.settings.do_sample and r.settings.repetition_penalty == 1.0]
        if plain:
            index = torch.tensor(plain, dtype=torch.long, device=self.device)
            for i, token in zip(plain, logits.index_select(0, index).argmax(dim=-1).tolist()):
                picked[i] = token
        for i, request in enumerate(rows):
            if request.settings.do_sample or request.settings.repetition_penalty != 1.0:
                picked[i] = int(pick_tokens(logits[i:i + 1], request.seen, request.settings, [request.rng])[0])
        return [i for i, (request, token) in enumerate(zip(rows, picked)) if self._advance(request, token)]

    def _advance(self, request: Request, token: int) -> bool:
        """One new token for a request: emits its text; False when the request is done."""
        request.generated.append(token)
        request.pending = token
        if request.seen is not None:
            request.seen[0, token] = True
        if token in request.stop_ids:
            return self._finish(request, request.stops.flush() + request.text.finish(), "stop")
        text, stopped = request.stops.feed(request.text.add(token))
        if stopped:
            return self._finish(request, text, "stop")
        if len(request.generated) >= request.max_tokens:
            return self._finish(request, text + request.stops.flush() + request.text.finish(), "length")
        if text:
            request.events.put(("delta", text, None))
        return not request.cancelled

    def _finish(self, request: Request, text: str, reason: str) -> bool:
        request.events.put(("delta", text, reason))
        request.events.put(("usage", len(request.prompt), len(request.generated)))
        return False

    def _keep(self, wanted) -> None:
        keep = [i for i, r in enumerate(self.rows) if wanted(r)]
        if len(keep) < len(self.rows):
            self._keep_indices(keep)

    def _keep_indices(self, keep: List[int]) -> None:
        """Only these rows stay; padding columns no remaining row needs go."""
        if not keep:
            self.rows, self.cache, self.mask = [], None, None
            return
        index = torch.tensor(keep, dtype=torch.long, device=self.device)
        self.rows = [self.rows[i] for i in keep]
        self.cache.select_rows(index)
        self.mask = self.mask[index]
        lead = int(self.mask.argmax(dim=1).min())
        if lead:
            self.mask = self.mask[:, lead:]
            self.cache.drop_leading(lead)

