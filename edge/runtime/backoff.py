"""Capped exponential backoff with jitter, for reconnecting to cameras and to the broker."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delays initial_s, 2 x initial_s, ... up to max_s, each shrunk by a random jitter fraction.

    The jitter only shortens a delay, so ``max_s`` is a hard bound on how long a recovered peer
    waits to be retried; it spreads the reconnects of many cameras (or edge boxes) that all lost
    their peer at the same instant, so they do not hammer it in lockstep.
    """

    initial_s: float = 0.5
    max_s: float = 6.0
    factor: float = 2.0
    jitter: float = 0.3
    rng: random.Random = field(default_factory=random.Random)
    _attempt: int = 0

    def __post_init__(self) -> None:
        if not (0 < self.initial_s <= self.max_s and self.factor >= 1 and 0 <= self.jitter < 1):
            raise ValueError("need 0 < initial_s <= max_s, factor >= 1 and 0 <= jitter < 1")

    def next_delay(self) -> float:
        """The delay before the next attempt (and count this attempt)."""
        capped = min(self.max_s, self.initial_s * self.factor ** min(self._attempt, 64))
        self._attempt += 1
        return capped * (1.0 - self.jitter * self.rng.random())

    def reset(self) -> None:
        """After a success: the next failure starts again from ``initial_s``."""
        self._attempt = 0
