"""Retry schedule of a failed delivery: capped exponential backoff, then give up."""

from __future__ import annotations

from datetime import datetime, timedelta

from central.dispatch.config import Retry


def backoff_s(policy: Retry, attempt: int) -> float:
    """Delay after the ``attempt``-th failed try (1-based): 2, 4, 8 ... capped at max_delay_s."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    # The exponent is capped too: 2**1000 would overflow a float long before the min() applies.
    return min(policy.first_delay_s * 2.0 ** min(attempt - 1, 60), policy.max_delay_s)


def next_attempt_at(policy: Retry, attempt: int, failed_at: datetime) -> datetime | None:
    """When to try again after the ``attempt``-th failure, or None when attempts are spent."""
    if attempt >= policy.max_attempts:
        return None
    return failed_at + timedelta(seconds=backoff_s(policy, attempt))
