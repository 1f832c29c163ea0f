"""Batched autoregressive generation with a KV cache: greedy or sampled, penalties, stops.

A batch of prompts is left-padded to one width; the attention mask and the positions
are computed per row (``Decoder.forward``), so padding changes no row's logits. The
first call feeds the whole padded batch and fills the cache; each later call feeds
only the newest token of each row. A row that finishes is dropped from the batch
(and from the cache), and padding columns no remaining row needs are cut off.

Logits processing, in Hugging Face's order: repetition penalty (CTRL's: a token
already in the prompt or the output has a positive logit divided by the penalty, a
negative one multiplied by it; Qianfan's ``penalty_score``), then for sampling:
temperature, top-k, top-p, and a draw from the row's own random stream. Each prompt
has its own stream (numpy PCG64 seeded by ``(seed, prompt index)``), so what a
prompt samples does not depend on which prompts share its batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch

STOP = "stop"
LENGTH = "length"


@dataclass(frozen=True)
class Settings:
    """How to pick tokens and when to stop (the ``generate`` spec's fields)."""

    max_new_tokens: int
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    eos_token_ids: Tuple[int, ...] = ()
    stop_sequences: Tuple[Tuple[int, ...], ...] = ()


@dataclass
class Generated:
    """One prompt's output: the new ids (the eos or stop tokens that ended it included)."""

    ids: List[int]
    finish_reason: str  # STOP (eos or a stop sequence) or LENGTH (max_new_tokens)


def row_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of prompt ``index`` (its position in the prompts file)."""
    return np.random.Generator(np.random.PCG64([seed, index]))


def apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL's penalty on the tokens marked in ``seen`` (``[b, vocab]`` bool)."""
    penalized = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalized, logits)


def sampling_probs(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """fp64 probabilities after temperature, top-k (0: off) and top-p (1: off); the top token always survives."""
    logits = logits.double() / temperature
    vocab = logits.shape[-1]
    if 0 < top_k < vocab:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(dim=-1) - sorted_probs  # mass of the more likely tokens
        sorted_probs = sorted_probs.masked_fill(before >= top_p, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return probs


def pick_tokens(logits: torch.Tensor, seen: Optional[torch.Tensor], settings: Settings,
                rngs: Sequence[np.random.Generator]) -> torch.Tensor:
    """The next token of each row, ``[b]`` long."""
    if seen is not None and settings.repetition_penalty != 1.0:
        logits = apply_repetition_penalty(logits, seen, settings.repetition_penalty)
    if not settings.do_sample:
        return logits.argmax(dim=-1)
    probs = sampling_probs(logits, settings.temperature, settings.top_k, settings.top_p)
    cdf = probs.cumsum(dim=-1)
    # u in (0, 1]: a zero-probability token (flat CDF step) is never the first to reach u * total.
    u = torch.tensor([1.0 - rng.random() for rng in rngs], dtype=torch.float64, device=logits.device)
    picked = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None]).squeeze(1)
    return picked.clamp(max=logits.shape[-1] - 1)


def _stops(ids: List[int], settings: Settings) -> bool:
    if ids[-1] in settings.eos_token_ids:
        return True
    return any(len(ids) >= len(seq) and tuple(ids[-len(seq):]) == seq for seq in settings.stop_sequences)


def generate(model, prompts: Sequence[Sequence[int]], settings: Settings, rngs: Sequence[np.random.Generator],
             use_cache: bool = True, pad_id: int = 0,
             should_stop: Callable[[], bool] = lambda: False) -> Optional[List[Generated]]:
    """Generate for one batch of prompts.

    Args:
        model: a ``CausalLM`` in eval mode.
        prompts: token ids, at least one per prompt.
        settings: decoding settings.
        rngs: one random stream per prompt (used only when sampling).
        use_cache: False recomputes the whole sequence at every step (reference and benchmark).
        pad_id: the id left padding uses (any id: padding is masked out).
        should_stop: polled before every step; True abandons the batch.

    Returns:
        One ``Generated`` per prompt, in order; None when ``should_stop`` said so.
    """
    device = model.model.embed_tokens.weight.device
    b = len(prompts)
    width = max(len(p) for p in prompts)
    ids = torch.full((b, width), pad_id, dtype=torch.long)
    mask = torch.zeros((b, width), dtype=torch.long)
    for r, prompt in enumerate(prompts):
        ids[r, width - len(prompt):] = torch.tensor(list(prompt), dtype=torch.long)
        mask[r, width - len(prompt):] = 1
    ids, mask = ids.to(device), mask.to(device)
    seen: Optional[torch.Tensor] = None
    if settings.repetition_penalty != 1.0:
        seen = torch.zeros((b, model.config.vocab_size), dtype=torch.bool, device=device)
        # Padding points at the row's last (real) token, so it marks nothing new.
        seen.scatter_(1, torch.where(mask.bool(), ids, ids[:, -1:]), True)
    rows = list(range(b))  # prompt index of each row still generating
    outputs = [Generated([], LENGTH) for _ in range(b)]
    cache = model.new_cache() if use_cache else None
    step_input = ids
    with torch.no_grad():
        for step in range(settings.max_new_tokens):
            if should_stop():
                return None
            logits = model.next_token_logits(step_input, attention_mask=mask, cache=cache)
            chosen = pick_tokens(logits, seen, settings, [rngs[r] for r in rows])
            keep = []
            for i, token in enumerate(chosen.tolist()):
                out = outputs[rows[i]]
                out.ids.append(token)
                if _stops(out.ids, settings):
                    out.finish_reason = STOP
                else:
                    keep.append(i)
            if not keep or step == settings.max_new_tokens - 1:
                break
            ids = torch.cat((ids, chosen[:, None]), dim=1)
            mask = torch.cat((mask, torch.ones_like(mask[:, :1])), dim=1)
            if seen is not None:
                seen.scatter_(1, chosen[:, None], True)
            if len(keep) < len(rows):
                index = torch.tensor(keep, dtype=torch.long, device=device)
                ids, mask, chosen = ids[index], mask[index], chosen[index]
                seen = seen[index] if seen is not None else None
                rows = [rows[i] for i in keep]
                if cache is not None:
                    cache.select_rows(index)
                lead = int(mask.argmax(dim=1).min())  # columns that are padding in every remaining row
                if lead:
                    ids, mask = ids[:, lead:], mask[:, lead:]
                    if cache is not None:
                        cache.drop_leading(lead)
            step_input = chosen[:, None] if cache is not None else ids
    return outputs
