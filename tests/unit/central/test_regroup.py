"""An operator's merge and split of incidents, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import contracts
from central.console.operators import create_operator
from central.db import AuditEntry, Event, Incident, Operator
from central.errors import Conflict, NotFound
from central.incidents.lifecycle import IncidentStatus
from central.incidents.regroup import merge_incidents, split_event
from central.incidents.service import ingest_alert
from tests.unit.central.builders import (
    CABANELLE,
    COURMETTES,
    T0,
    T2_LATITUDE_DEG,
    T2_LONGITUDE_DEG,
    FakeLocator,
    alert,
    alert_towards,
    later,
)


@pytest.fixture
def operator_id(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return create_operator(session, "marie", "Marie D.", "un mot de passe assez long").id


def trail(session: Session, incident_id: int) -> list[tuple[str, dict[str, object]]]:
    return [
        (entry.action, dict(entry.details or {}))
        for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.incident_id == incident_id).order_by(AuditEntry.id)
        )
    ]


def test_merging_two_incidents_of_one_fire(
    sessions: sessionmaker[Session], locator: FakeLocator, operator_id: int
) -> None:
    # Clustering kept them apart (the second bearing missed the first camera's cone): 240 deg
    # from cabanelle and 20 deg from courmettes never cross.
    source_event = uuid.uuid4()
    with sessions.begin() as session:
        target = ingest_alert(session, alert(CABANELLE, azimuth_deg=240.0), locator)
        source = ingest_alert(
            session,
            alert(COURMETTES, azimuth_deg=20.0, event_id=source_event, captured_at=later(60)),
            locator,
        )
        assert source.incident_id != target.incident_id
        seen = session.get_one(Incident, source.incident_id)
        seen.status = IncidentStatus.CONFIRMED
        seen.acknowledged_at = later(90)
    with sessions.begin() as session:
        operator = session.get_one(Operator, operator_id)
        outcome = merge_incidents(
            session, source.incident_id, target.incident_id, operator, locator
        )
    assert outcome.changed_ids == (source.incident_id, target.incident_id)
    assert outcome.message == (
        f"Incident n° {source.incident_id} regroupé dans l'incident n° {target.incident_id}."
    )
    with sessions() as session:
        merged = session.get_one(Incident, target.incident_id)
        closed = session.get_one(Incident, source.incident_id)
        assert sorted(e.camera_pk for e in merged.events) == [1, 2]
        assert (merged.first_seen_at, merged.last_seen_at) == (T0, later(60))
        # The further-along status and the acknowledgement come along.
        assert merged.status is IncidentStatus.CONFIRMED
        assert merged.acknowledged_at == later(90)
        assert merged.location is not None
        assert (merged.location.method, merged.location.camera_count) == ("triangulation", 2)
        assert (closed.status, closed.merged_into_id) == (IncidentStatus.CLOSED, merged.id)
        assert closed.events == []
        assert trail(session, closed.id)[-1] == (
            "incident.merged",
            {"into": merged.id, "events": 1},
        )
        assert trail(session, merged.id)[-2:] == [
            ("incident.confirmed", {"merged_from": closed.id}),
            ("incident.joined", {"from": closed.id, "events": 1}),
        ]
    # The source's camera goes on sending: its alerts land in the merged incident.
    with sessions.begin() as session:
        update = alert(
            COURMETTES, azimuth_deg=20.0, event_id=source_event, sequence=1, captured_at=later(120)
        )
        assert ingest_alert(session, update, locator).incident_id == target.incident_id
        assert session.get_one(Incident, target.incident_id).last_seen_at == later(120)


@pytest.mark.parametrize(
    ("source_status", "target_status"),
    [(IncidentStatus.DISMISSED, IncidentStatus.NEW), (IncidentStatus.NEW, IncidentStatus.CLOSED)],
)
def test_only_open_incidents_merge(
    sessions: sessionmaker[Session],
    locator: FakeLocator,
    operator_id: int,
    source_status: IncidentStatus,
    target_status: IncidentStatus,
) -> None:
    with sessions.begin() as session:
        source = ingest_alert(session, alert(CABANELLE, azimuth_deg=240.0), locator).incident_id
        target = ingest_alert(session, alert(COURMETTES, azimuth_deg=20.0), locator).incident_id
        session.get_one(Incident, source).status = source_status
        session.get_one(Incident, target).status = target_status
    with sessions() as session:
        operator = session.get_one(Operator, operator_id)
        with pytest.raises(Conflict, match="n'est plus ouvert"):
            merge_incidents(session, source, target, operator, locator)
        with pytest.raises(Conflict, match="lui-même"):
            merge_incidents(session, source, source, operator, locator)
        with pytest.raises(NotFound):
            merge_incidents(session, source, 999, operator, locator)


def test_splitting_another_fire_out_of_an_incident(
    sessions: sessionmaker[Session], locator: FakeLocator, operator_id: int
) -> None:
    courmettes_event = uuid.uuid4()
    with sessions.begin() as session:
        first = ingest_alert(
            session, alert_towards(CABANELLE, T2_LATITUDE_DEG, T2_LONGITUDE_DEG), locator
        )
        fire = alert_towards(
            COURMETTES,
            T2_LATITUDE_DEG,
            T2_LONGITUDE_DEG,
            event_id=courmettes_event,
            captured_at=later(40),
        ).model_copy(update={"detection_class": contracts.DetectionClass.FIRE, "score": 0.9})
        second = ingest_alert(session, fire, locator)
        assert first.incident_id == second.incident_id
        incident_id = first.incident_id
        assert session.get_one(Incident, incident_id).detection_class == "fire"
    with sessions.begin() as session:
        operator = session.get_one(Operator, operator_id)
        outcome = split_event(session, incident_id, courmettes_event, operator, locator)
    created_id = outcome.changed_ids[1]
    assert outcome.message == (
        f"Détection de courmettes/cam-1 séparée : nouvel incident n° {created_id}."
    )
    with sessions() as session:
        kept = session.get_one(Incident, incident_id)
        created = session.get_one(Incident, created_id)
        assert [e.id for e in created.events] == [courmettes_event]
        assert len(kept.events) == 1
        # Each is re-located from what it holds now: one camera each, a bearing only.
        assert kept.location is not None
        assert created.location is not None
        assert (kept.location.method, created.location.method) == ("bearing_only", "bearing_only")
        # The flames went with the event that saw them.
        assert (kept.detection_class, kept.max_score) == ("smoke", 0.8)
        assert (created.detection_class, created.max_score) == ("fire", 0.9)
        assert (created.status, created.first_seen_at) == (IncidentStatus.NEW, later(40))
        details = {"event_id": str(courmettes_event), "camera": "courmettes/cam-1"}
        assert trail(session, incident_id)[-1] == ("incident.split", {"to": created_id, **details})
        assert trail(session, created_id) == [
            ("incident.created", {"split_from": incident_id, **details})
        ]
    # Later alerts of the split event follow it.
    with sessions.begin() as session:
        update = alert_towards(
            COURMETTES,
            T2_LATITUDE_DEG,
            T2_LONGITUDE_DEG,
            event_id=courmettes_event,
            sequence=1,
            captured_at=later(100),
        )
        assert ingest_alert(session, update, locator).incident_id == created_id


def test_a_split_needs_two_events_and_one_of_them(
    sessions: sessionmaker[Session], locator: FakeLocator, operator_id: int
) -> None:
    with sessions.begin() as session:
        result = ingest_alert(session, alert(CABANELLE, azimuth_deg=240.0), locator)
        event_id = session.scalars(select(Event.id)).one()
    with sessions() as session:
        operator = session.get_one(Operator, operator_id)
        with pytest.raises(Conflict, match="qu'une détection"):
            split_event(session, result.incident_id, event_id, operator, locator)
        with pytest.raises(NotFound, match="inconnue"):
            split_event(session, result.incident_id, uuid.uuid4(), operator, locator)
        with pytest.raises(NotFound):
            split_event(session, 999, event_id, operator, locator)
