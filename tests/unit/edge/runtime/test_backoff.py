"""Reconnect delays grow exponentially, stay under the cap whatever the jitter, and reset."""

from __future__ import annotations

import random

import pytest

from edge.runtime.backoff import Backoff


def test_without_jitter_delays_double_up_to_the_cap() -> None:
    backoff = Backoff(initial_s=0.5, max_s=6.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 6.0, 6.0]


def test_jitter_only_shortens_and_spreads_delays() -> None:
    backoff = Backoff(initial_s=1.0, max_s=8.0, jitter=0.3, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(200)][10:]  # all at the cap by then
    assert all(8.0 * 0.7 <= delay <= 8.0 for delay in delays)
    assert max(delays) - min(delays) > 1.0  # not in lockstep


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(initial_s=0.5, max_s=6.0, jitter=0.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_many_failures_do_not_overflow() -> None:
    backoff = Backoff(initial_s=0.5, max_s=6.0, jitter=0.0)
    for _ in range(5000):
        delay = backoff.next_delay()
    assert delay == 6.0


@pytest.mark.parametrize(
    "arguments",
    [
        {"initial_s": 0.0},  # would spin
        {"initial_s": 10.0, "max_s": 5.0},  # cap below the first delay
        {"jitter": 1.0},  # could wait 0 s
        {"factor": 0.5},  # would shrink
    ],
)
def test_nonsense_settings_are_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="need"):
        Backoff(**arguments)  # type: ignore[arg-type]
