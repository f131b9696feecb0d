"""Polling for a condition in integration tests: returns as soon as it holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

DEFAULT_TIMEOUT_S = 20.0


def wait_until(
    condition: Callable[[], Any], timeout_s: float = DEFAULT_TIMEOUT_S, what: str = ""
) -> Any:
    """Poll ``condition`` every 50 ms until it returns something truthy; fail after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what or condition}")
