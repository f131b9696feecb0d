"""What one ingest session already knows, so that a batch does not query row by row.

Ingest runs without autoflush (a flush before every query made it ~4x slower), so the rows a
batch added are found here rather than by a query; ``prefetch`` asks the database once per
batch which alerts and pictures are already stored. After a rollback, ``forget_memo``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

import contracts
from central.db import Alert, Event, Incident, Snapshot

NOT_STORED = -1
_MEMO_KEY = "vigifeu.ingest_memo"


@dataclass
class IngestMemo:
    """What this session added or looked up, by key."""

    alerts: dict[uuid.UUID, int] = field(default_factory=dict)  # alert_id -> incident id
    events: dict[uuid.UUID, Event] = field(default_factory=dict)
    # Held here because the identity map holds unmodified rows only weakly.
    incidents: dict[int, Incident] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    # Known not to be stored (``prefetch``): no query needed.
    absent_alerts: set[uuid.UUID] = field(default_factory=set)
    absent_snapshots: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, session: Session) -> IngestMemo:
        memo: IngestMemo = session.info.setdefault(_MEMO_KEY, cls())
        return memo


def forget_memo(session: Session) -> None:
    """Drop what the session remembers (after a rollback those rows do not exist)."""
    session.info.pop(_MEMO_KEY, None)


def prefetch(session: Session, alerts: Sequence[contracts.AlertMessage]) -> None:
    """Look up, in two queries, which of these alerts and pictures are already stored, so that
    ``ingest_alert`` need not ask one by one (an ingest batch calls this first)."""
    memo = IngestMemo.of(session)
    alert_ids = [alert.alert_id for alert in alerts if alert.alert_id not in memo.alerts]
    memo.absent_alerts.update(alert_ids)
    if alert_ids:
        for alert_id, incident_id in session.execute(
            select(Alert.alert_id, Event.incident_id)
            .join(Event, Alert.event_id == Event.id)
            .where(Alert.alert_id.in_(alert_ids))
        ):
            memo.alerts[alert_id] = incident_id
            memo.absent_alerts.discard(alert_id)
    hashes = {s.sha256 for alert in alerts for s in alert.snapshots} - memo.snapshots.keys()
    memo.absent_snapshots.update(hashes)
    if hashes:
        for picture in session.scalars(select(Snapshot).where(Snapshot.sha256.in_(hashes))):
            memo.snapshots[picture.sha256] = picture
            memo.absent_snapshots.discard(picture.sha256)


def incident_of_stored(session: Session, memo: IngestMemo, alert_id: uuid.UUID) -> int:
    """The incident of an already stored alert, or ``NOT_STORED``."""
    if alert_id in memo.alerts:
        return memo.alerts[alert_id]
    if alert_id in memo.absent_alerts:
        return NOT_STORED
    row = session.execute(
        select(Event.incident_id)
        .join(Alert, Alert.event_id == Event.id)
        .where(Alert.alert_id == alert_id)
    ).first()
    return NOT_STORED if row is None else int(row[0])
