"""What one ingest session already knows, so that a batch does not query row by row.

Ingest runs without autoflush (a flush before every query made it ~4x slower), so the rows a
batch added are found here rather than by a query; ``prefetch`` asks the database once per
batch which alerts are already stored and loads the events they continue. After a rollback,
``forget_memo``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

import contracts
from central.db import Alert, Event, Incident

_MEMO_KEY = "vigifeu.ingest_memo"


@dataclass
class IngestMemo:
    """What this session stored or looked up, by key."""

    alerts: dict[uuid.UUID, int] = field(default_factory=dict)  # stored alert_id -> incident id
    events: dict[uuid.UUID, Event] = field(default_factory=dict)
    # Held here because the identity map holds unmodified rows only weakly.
    incidents: dict[int, Incident] = field(default_factory=dict)
    snapshots: set[str] = field(default_factory=set)  # sha256 of pictures written

    @classmethod
    def of(cls, session: Session) -> IngestMemo:
        memo: IngestMemo = session.info.setdefault(_MEMO_KEY, cls())
        return memo


def forget_memo(session: Session) -> None:
    """Drop what the session remembers (after a rollback those rows do not exist)."""
    session.info.pop(_MEMO_KEY, None)


def prefetch(session: Session, memo: IngestMemo, alerts: Sequence[contracts.AlertMessage]) -> None:
    """In at most three queries: which of ``alerts`` are stored (and in which incident), and
    the stored events and incidents they continue. An alert id absent from ``memo.alerts``
    afterwards is not stored."""
    alert_ids = {alert.alert_id for alert in alerts} - memo.alerts.keys()
    if alert_ids:
        memo.alerts.update(
            (alert_id, incident_id)
            for alert_id, incident_id in session.execute(
                select(Alert.alert_id, Event.incident_id)
                .join(Event, Alert.event_id == Event.id)
                .where(Alert.alert_id.in_(alert_ids))
            )
        )
    event_ids = {alert.event_id for alert in alerts} - memo.events.keys()
    if event_ids:
        memo.events.update(
            (event.id, event)
            for event in session.scalars(select(Event).where(Event.id.in_(event_ids)))
        )
    incident_ids = {event.incident_id for event in memo.events.values()} - memo.incidents.keys()
    if incident_ids:
        memo.incidents.update(
            (incident.id, incident)
            for incident in session.scalars(select(Incident).where(Incident.id.in_(incident_ids)))
        )
