"""Durable store-and-forward outbox for alerts: SQLite in WAL mode, fsync'd before publishing.

Every alert is committed here before the publisher sees it, and deleted only once the broker has
acknowledged it (MQTT PUBACK), so an alert survives a broker outage, a crash or a power cut.
Rows are read back in insertion order, which is capture order per camera.

The outbox is bounded by ``max_alerts``. When full, the oldest ``update`` alerts are evicted
first: an update only refines an event whose ``start`` and ``end`` carry the decision. Only when
nothing but starts and ends remain does the oldest row go. Every eviction is counted and logged.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from contracts import AlertMessage, EventState, MessageKind, encode_message, topic_for

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL UNIQUE,
    camera_id TEXT NOT NULL,
    state TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
)
"""
_STATE_INDEX = "CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, id)"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    row_id: int
    alert_id: str
    camera_id: str
    state: EventState
    topic: str
    payload: bytes


class Outbox:
    """Thread-safe: the inference loop puts, the publisher reads and acknowledges.

    ``synchronous=FULL`` makes each commit durable across a power cut (in WAL mode NORMAL may
    lose the last commits); an alert a minute costs one fsync a minute.
    """

    def __init__(self, path: Path, max_alerts: int) -> None:
        if max_alerts < 1:
            raise ValueError("max_alerts must be at least 1")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_alerts = max_alerts
        self.evicted = 0
        self._lock = threading.Lock()
        # Autocommit mode: each statement below is its own durable transaction.
        self._db = sqlite3.connect(
            str(path), timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        self._db.execute(_STATE_INDEX)

    def put(self, alert: AlertMessage) -> int:
        """Store an alert durably (idempotent on ``alert_id``); returns its row id."""
        topic = topic_for(alert.site_id, alert.camera_id, MessageKind.ALERT)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR IGNORE INTO alerts (alert_id, camera_id, state, topic, payload)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        str(alert.alert_id),
                        alert.camera_id,
                        alert.state.value,
                        topic,
                        encode_message(alert),
                    ),
                )
                evicted = self._evict_over_capacity()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            (row_id,) = self._db.execute(
                "SELECT id FROM alerts WHERE alert_id = ?", (str(alert.alert_id),)
            ).fetchone() or (0,)
        if evicted:
            logger.warning(
                "outbox full (%d alerts): evicted %d (%d since start)",
                self.max_alerts,
                evicted,
                self.evicted,
            )
        return int(row_id)

    def pending(self, after_row_id: int = 0, limit: int = 100) -> list[OutboxRow]:
        """Unacknowledged alerts with a row id above ``after_row_id``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, alert_id, camera_id, state, topic, payload FROM alerts"
                " WHERE id > ? ORDER BY id LIMIT ?",
                (after_row_id, limit),
            ).fetchall()
        return [
            OutboxRow(int(r[0]), str(r[1]), str(r[2]), EventState(r[3]), str(r[4]), bytes(r[5]))
            for r in rows
        ]

    def acknowledge(self, row_ids: Sequence[int]) -> None:
        """The broker has these alerts: forget them, in one durable transaction.

        One fsync for a batch, not one per alert: draining a backlog after an outage is bound by
        fsyncs on an SD card. A row already evicted or acknowledged is a no-op.
        """
        if not row_ids:
            return
        placeholders = ", ".join("?" * len(row_ids))
        with self._lock:
            self._db.execute(f"DELETE FROM alerts WHERE id IN ({placeholders})", tuple(row_ids))

    def depth(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM alerts").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _evict_over_capacity(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM alerts").fetchone()
        excess = int(count) - self.max_alerts
        if excess <= 0:
            return 0
        removed = self._db.execute(
            "DELETE FROM alerts WHERE id IN"
            " (SELECT id FROM alerts WHERE state = ? ORDER BY id LIMIT ?)",
            (EventState.UPDATE.value, excess),
        ).rowcount
        if removed < excess:
            removed += self._db.execute(
                "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts ORDER BY id LIMIT ?)",
                (excess - removed,),
            ).rowcount
        self.evicted += removed
        return int(removed)
