"""Ingest counters of this process (thread-safe), served by ``/api/v1/metrics``."""

from __future__ import annotations

import threading
from collections import Counter


class IngestMetrics:
    """Monotonic counters: ``received`` (in ``batches``), ``ingested``, ``duplicates``,
    ``quarantined``, ``heartbeats``, ...

    One instance per consumer; several central instances each count their own share.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, count: int = 1) -> None:
        with self._lock:
            self._counts[name] += count

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
