"""Exponential backoff with full jitter, so a hundred nodes do not reconnect in lockstep."""

from __future__ import annotations

import random


class Backoff:
    def __init__(
        self,
        base: float = 0.5,
        cap: float = 30.0,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The next wait: uniform in [base/2, min(cap, base * 2**attempt)]."""
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        return self._rng.uniform(min(self.base / 2, ceiling), ceiling)

    def reset(self) -> None:
        self.attempt = 0
