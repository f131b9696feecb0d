"""Storage and the incident service on SQLite and PostgreSQL (the same assertions on both)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from central.db import (
    Alert,
    AlertSnapshot,
    AuditEntry,
    Camera,
    Event,
    Incident,
    Location,
    Pose,
    Snapshot,
    make_engine,
    make_session_factory,
)
from central.db.migrate import alembic_config, head_revision, schema_differences, upgrade_to_head
from central.db.registry import camera_for
from central.incidents.lifecycle import IncidentStatus
from central.incidents.service import IngestOutcome, ingest_alert, ingest_alerts
from tests.unit.central.builders import (
    CABANELLE,
    COURMETTES,
    T0,
    T2_LATITUDE_DEG,
    T2_LONGITUDE_DEG,
    BrokenLocator,
    FakeLocator,
    alert,
    alert_towards,
    box,
    jpeg,
    later,
    sha256,
)


def count(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_migrations_match_the_models(engine: Engine) -> None:
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        version = connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert version == head_revision()


def test_upgrading_keeps_the_incidents_of_an_older_schema(database_url: str) -> None:
    """0002 rebuilds the incidents table on SQLite (batch mode): the rows must survive it."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
            connection.execute(
                text(
                    "INSERT INTO incidents (status, detection_class, first_seen_at, last_seen_at,"
                    " max_score, created_at, status_changed_at)"
                    " VALUES ('confirmed', 'smoke', :t, :t, 0.8, :t, :t)"
                ),
                {"t": T0.replace(tzinfo=None)},
            )
        upgrade_to_head(engine)
        with make_session_factory(engine)() as session:
            incident = session.scalars(select(Incident)).one()
            assert (incident.status, incident.merged_into_id) == ("confirmed", None)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_schema_comparison_sees_a_missing_index(engine: Engine) -> None:
    """The check above could pass vacuously; it must notice a real drift."""
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_alerts_captured_at"))
    assert any("ix_alerts_captured_at" in str(diff) for diff in schema_differences(engine))


def test_times_come_back_tz_aware_utc(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    with sessions() as session:
        ingest_alert(session, alert(CABANELLE, azimuth_deg=240.0), locator)
        session.commit()
    with sessions() as session:
        stored = session.scalars(select(Alert)).one()
        assert stored.captured_at == T0
        assert stored.captured_at.utcoffset() is not None
        assert stored.captured_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_the_same_alert_twice_is_stored_once(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    message = alert(CABANELLE, azimuth_deg=240.0, snapshot_seed=1)
    with sessions() as session:
        first = ingest_alert(session, message, locator)
        session.commit()
    with sessions() as session:
        second = ingest_alert(session, message, locator)
        session.commit()
        assert (first.outcome, second.outcome) == (IngestOutcome.STORED, IngestOutcome.DUPLICATE)
        assert second.incident_id == first.incident_id
        assert (count(session, Alert), count(session, Snapshot), count(session, Incident)) == (
            1,
            1,
            1,
        )


def test_two_cameras_seeing_the_same_smoke_make_one_located_incident(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    with sessions() as session:
        first = ingest_alert(
            session, alert_towards(CABANELLE, T2_LATITUDE_DEG, T2_LONGITUDE_DEG), locator
        )
        second = ingest_alert(
            session,
            alert_towards(COURMETTES, T2_LATITUDE_DEG, T2_LONGITUDE_DEG, captured_at=later(40)),
            locator,
        )
        session.commit()
    assert first.incident_created
    assert not second.incident_created
    assert first.incident_id == second.incident_id
    with sessions() as session:
        incident = session.get_one(Incident, first.incident_id)
        assert incident.status is IncidentStatus.NEW
        assert (incident.first_seen_at, incident.last_seen_at) == (T0, later(40))
        location = session.scalars(select(Location)).one()
        assert (location.method, location.camera_count, location.revision) == (
            "triangulation",
            2,
            2,
        )
        assert (location.dfci_code, location.commune, location.massif) == (
            "LD86G3",
            "Nice",
            "Paillon",
        )
        assert location.estimate["method"] == "triangulation"
        assert location.attribution is not None
        assert location.attribution["nearest_stations"][0]["name"] == "CSP Nice Ouest"
        assert [entry.action for entry in session.scalars(select(AuditEntry))] == [
            "incident.created"
        ]
    # the second location used the latest sighting of each camera
    assert sorted(s.camera_key for s in locator.calls[-1]) == [
        "cabanelle/cam-1",
        "courmettes/cam-1",
    ]


def test_unrelated_smokes_make_separate_incidents(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    with sessions() as session:
        a = ingest_alert(session, alert(CABANELLE, azimuth_deg=240.0), locator)
        # courmettes looks east-north-east, away from anything cabanelle sees at 240 deg
        b = ingest_alert(session, alert(COURMETTES, azimuth_deg=20.0), locator)
        session.commit()
    assert a.incident_id != b.incident_id


def test_an_event_keeps_its_incident_through_update_and_end(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    event_id = uuid.uuid4()
    steps = [
        alert(CABANELLE, azimuth_deg=240.0, event_id=event_id),
        alert(
            CABANELLE,
            azimuth_deg=240.0,
            event_id=event_id,
            sequence=1,
            captured_at=later(30),
            boxes=[box(0.52)],
        ),
        alert(
            CABANELLE,
            azimuth_deg=240.0,
            event_id=event_id,
            sequence=2,
            captured_at=later(60),
            boxes=(),
        ),
    ]
    with sessions() as session:
        results = [ingest_alert(session, step, locator) for step in steps]
        session.commit()
    assert len({result.incident_id for result in results}) == 1
    # the end carries no box: nothing new to locate
    assert [result.located for result in results] == [True, True, False]
    with sessions() as session:
        event = session.get_one(Event, event_id)
        assert (event.alert_count, event.started_at, event.ended_at) == (3, T0, later(60))
        assert [a.state for a in event.alerts] == ["start", "update", "end"]


def test_out_of_order_steps_do_not_shrink_the_time_span(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    event_id = uuid.uuid4()
    with sessions() as session:
        update = alert(
            CABANELLE, azimuth_deg=240.0, event_id=event_id, sequence=1, captured_at=later(30)
        )
        start = alert(CABANELLE, azimuth_deg=240.0, event_id=event_id)
        ingest_alert(session, update, locator)  # the start was delayed in an edge outbox
        result = ingest_alert(session, start, locator)
        session.commit()
        incident = session.get_one(Incident, result.incident_id)
        assert (incident.first_seen_at, incident.last_seen_at) == (T0, later(30))


def test_snapshots_are_stored_once_by_hash_and_linked_to_each_alert(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    event_id = uuid.uuid4()
    with sessions() as session:
        ingest_alert(
            session,
            alert(CABANELLE, azimuth_deg=240.0, event_id=event_id, snapshot_seed=7),
            locator,
        )
        ingest_alert(
            session,
            alert(CABANELLE, azimuth_deg=240.0, event_id=event_id, sequence=1, snapshot_seed=7),
            locator,
        )
        session.commit()
        stored = session.scalars(select(Snapshot)).one()
        assert stored.sha256 == sha256(jpeg(7))
        assert stored.data == jpeg(7)
        assert count(session, AlertSnapshot) == 2


def test_cameras_and_poses_are_registered_from_alerts(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    with sessions() as session:
        ingest_alert(session, alert(CABANELLE, azimuth_deg=240.0), locator)
        ingest_alert(session, alert(CABANELLE, azimuth_deg=250.0, captured_at=later(5)), locator)
        session.commit()
        camera = session.scalars(select(Camera)).one()
        assert (camera.key, camera.latitude_deg) == ("cabanelle/cam-1", CABANELLE.latitude_deg)
        pose = session.scalars(select(Pose)).one()
        assert pose.azimuth_deg == 250.0  # the latest report


def test_a_locator_failure_keeps_the_alert(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        result = ingest_alert(session, alert(CABANELLE, azimuth_deg=240.0), BrokenLocator())
        session.commit()
        assert result.outcome is IngestOutcome.STORED
        assert not result.located
        assert (count(session, Alert), count(session, Location)) == (1, 0)


@pytest.mark.parametrize("status", [IncidentStatus.CLOSED, IncidentStatus.DISMISSED])
def test_a_finished_incident_is_not_joined_by_a_new_event(
    sessions: sessionmaker[Session], locator: FakeLocator, status: IncidentStatus
) -> None:
    with sessions() as session:
        first = ingest_alert(session, alert(CABANELLE, azimuth_deg=240.0), locator)
        session.get_one(Incident, first.incident_id).status = status
        second = ingest_alert(
            session, alert(CABANELLE, azimuth_deg=240.0, captured_at=later(60)), locator
        )
        session.commit()
    assert second.incident_created
    assert second.incident_id != first.incident_id


def test_an_update_with_the_same_box_is_not_located_again(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    event_id = uuid.uuid4()
    with sessions() as session:
        first = ingest_alert(
            session, alert(CABANELLE, azimuth_deg=240.0, event_id=event_id), locator
        )
        same = alert(
            CABANELLE, azimuth_deg=240.0, event_id=event_id, sequence=1, captured_at=later(60)
        )
        # 0.04 % of the frame: below the rounding, cannot move the fix
        nudged = alert(
            CABANELLE,
            azimuth_deg=240.0,
            event_id=event_id,
            sequence=2,
            captured_at=later(120),
            boxes=[box(0.5004)],
        )
        moved = alert(
            CABANELLE,
            azimuth_deg=240.0,
            event_id=event_id,
            sequence=3,
            captured_at=later(180),
            boxes=[box(0.51)],
        )
        results = [ingest_alert(session, step, locator) for step in (same, nudged, moved)]
        session.commit()
        assert [first.located, *(r.located for r in results)] == [True, False, False, True]
        assert len(locator.calls) == 2
        assert session.scalars(select(Location)).one().revision == 2


def test_a_batch_locates_each_incident_once_after_all_its_alerts(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    event_id = uuid.uuid4()
    steps = [
        alert(
            CABANELLE,
            azimuth_deg=240.0,
            event_id=event_id,
            sequence=step,
            captured_at=later(60 * step),
            boxes=[box(0.5 + step / 100)],
        )
        for step in range(5)
    ]
    with sessions() as session:
        results = ingest_alerts(session, steps, locator)
        session.commit()
    assert {result.incident_id for result in results} == {results[0].incident_id}
    assert all(result.located for result in results)
    assert len(locator.calls) == 1
    [latest] = locator.calls[0]
    assert latest.captured_at == later(240)  # from the last update


def test_a_batch_clusters_as_alerts_one_at_a_time_would(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    """The candidates are read once per batch: what the batch added must count."""
    cabanelle_event = uuid.uuid4()
    batch = [
        alert_towards(CABANELLE, T2_LATITUDE_DEG, T2_LONGITUDE_DEG, event_id=cabanelle_event),
        # a second camera joins the incident the first alert of this batch created
        alert_towards(COURMETTES, T2_LATITUDE_DEG, T2_LONGITUDE_DEG, captured_at=later(40)),
        # looking away from that smoke: a second incident
        alert(COURMETTES, camera_id="cam-2", azimuth_deg=200.0, captured_at=later(50)),
        # the cabanelle event goes on: same incident, whatever its bearing
        alert(
            CABANELLE,
            azimuth_deg=10.0,
            event_id=cabanelle_event,
            sequence=1,
            captured_at=later(60),
        ),
    ]
    with sessions() as session:
        results = ingest_alerts(session, [*batch, batch[1]], locator)
        session.commit()
    first, joined, apart, update, copy = results
    assert [r.incident_created for r in results] == [True, False, True, False, False]
    assert first.incident_id == joined.incident_id == update.incident_id != apart.incident_id
    assert (copy.outcome, copy.incident_id) == (IngestOutcome.DUPLICATE, joined.incident_id)
    assert len(locator.calls) == 2  # once per incident, after all its alerts
    with sessions() as session:
        assert count(session, Alert) == 4
        assert session.get_one(Incident, first.incident_id).last_seen_at == later(60)
        # The incidents were created at the end of the batch: ids, events and audit agree.
        events = {event.id: event.incident_id for event in session.scalars(select(Event))}
        assert events[cabanelle_event] == first.incident_id
        assert sorted(set(events.values())) == sorted({first.incident_id, apart.incident_id})
        created = {
            entry.incident_id: entry.details
            for entry in session.scalars(select(AuditEntry))
            if entry.action == "incident.created"
        }
        assert created == {
            first.incident_id: {"alert_id": str(batch[0].alert_id), "camera": "cabanelle/cam-1"},
            apart.incident_id: {"alert_id": str(batch[2].alert_id), "camera": "courmettes/cam-2"},
        }


def test_a_picture_stored_by_another_session_is_linked_not_stored_again(
    sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    for step in range(2):
        with sessions() as session:
            ingest_alert(
                session,
                alert(CABANELLE, azimuth_deg=240.0, snapshot_seed=7, captured_at=later(step)),
                locator,
            )
            session.commit()
    with sessions() as session:
        assert (count(session, Snapshot), count(session, AlertSnapshot)) == (1, 2)


def test_a_camera_another_instance_created_meanwhile_is_reused_not_a_unique_key_error(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Instance B looked the camera up and found nothing; instance A then committed it. B's
    # insert must not fail its whole batch on the unique key.
    with sessions() as other:
        camera_for(other, "cabanelle", "cam-1", T0)
        other.commit()
        created_id = camera_for(other, "cabanelle", "cam-1", T0).id
    with sessions() as session:
        real_scalar = session.scalar
        stale = [True]  # the camera lookup ran before A's commit: it found nothing

        def scalar(query: Any) -> Any:
            return None if stale and stale.pop() else real_scalar(query)

        monkeypatch.setattr(session, "scalar", scalar)
        camera = camera_for(session, "cabanelle", "cam-1", T0)
        session.commit()
        assert camera.id == created_id
        assert session.scalar(select(func.count()).select_from(Camera)) == 1
