"""The outbox keeps alerts across restarts, in order, bounded by an explicit eviction rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import AlertMessage, EventState, decode_message
from edge.publish.outbox import Outbox
from tests.unit.edge.runtime.factories import make_alert

START, UPDATE, END = EventState.START, EventState.UPDATE, EventState.END


def states(outbox: Outbox) -> list[str]:
    return [row.state.value[0] for row in outbox.pending(limit=1000)]


def test_rows_come_back_in_insertion_order_and_decode(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", max_alerts=100)
    alerts = [make_alert("cam-a" if i % 2 else "cam-b") for i in range(5)]
    for alert in alerts:
        outbox.put(alert)
    rows = outbox.pending()
    assert [row.alert_id for row in rows] == [str(a.alert_id) for a in alerts]
    assert [row.row_id for row in rows] == sorted(row.row_id for row in rows)
    parsed, message = decode_message(rows[0].topic, rows[0].payload)
    assert isinstance(message, AlertMessage)
    assert message == alerts[0]
    assert parsed.camera_id == "cam-b"


def test_pending_pages_after_a_row_id(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", max_alerts=100)
    ids = [outbox.put(make_alert()) for _ in range(5)]
    assert [row.row_id for row in outbox.pending(after_row_id=ids[1], limit=2)] == ids[2:4]


def test_the_same_alert_is_stored_once(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", max_alerts=100)
    alert = make_alert()
    first = outbox.put(alert)
    assert outbox.put(alert) == first
    assert outbox.depth() == 1


def test_acknowledged_rows_are_gone_and_the_rest_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = Outbox(path, max_alerts=100)
    alerts = [make_alert() for _ in range(5)]
    row_ids = [outbox.put(alert) for alert in alerts]
    outbox.acknowledge([row_ids[1]])
    outbox.acknowledge([row_ids[1], row_ids[3]])  # a second PUBACK of the same row is harmless
    outbox.acknowledge([])
    outbox.close()

    reopened = Outbox(path, max_alerts=100)
    assert [row.alert_id for row in reopened.pending()] == [
        str(alerts[i].alert_id) for i in (0, 2, 4)
    ]
    # Row ids never go back: a new alert sorts after the survivors.
    assert reopened.put(make_alert()) > row_ids[-1]


def test_write_ahead_log_and_full_sync_are_on(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", max_alerts=100)
    assert outbox._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert outbox._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


@pytest.mark.parametrize(
    ("stored", "capacity", "kept", "evicted"),
    [
        # Under capacity: nothing goes.
        ("sue", 3, "sue", 0),
        # The oldest update goes first, starts and ends stay.
        ("suuue", 4, "suue", 1),
        ("suuuuse", 4, "suse", 3),
        # Only starts and ends left: then the oldest row, whatever it is.
        ("seses", 3, "ses", 2),
        # A new update into an outbox full of starts/ends is itself the oldest update.
        ("sesu", 3, "ses", 1),
    ],
)
def test_eviction_takes_oldest_updates_first(
    tmp_path: Path, stored: str, capacity: int, kept: str, evicted: int
) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", max_alerts=capacity)
    by_letter = {"s": START, "u": UPDATE, "e": END}
    for letter in stored:
        outbox.put(make_alert(state=by_letter[letter]))
    assert "".join(states(outbox)) == kept
    assert outbox.evicted == evicted
