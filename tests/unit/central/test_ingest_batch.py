"""From received MQTT messages to committed rows: quarantine, health, retries, isolation."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import exc, func, select
from sqlalchemy.orm import Session, sessionmaker

import contracts
from central.db import Alert, Camera, Event, Incident, QuarantinedMessage, Site
from central.incidents import service as service_module
from central.incidents.clustering import ClusterConfig
from central.ingest import batch as batch_module
from central.ingest.batch import BatchStore
from central.ingest.handler import Handled, HandledKind, HandlerConfig, Received
from central.ingest.metrics import IngestMetrics
from tests.unit.central.builders import CABANELLE, T0, FakeLocator, alert, box, later

CONFIG = HandlerConfig(
    instance_id="test", quarantine_payload_max_bytes=100, cluster=ClusterConfig()
)
ALERT_TOPIC = contracts.topic_for("cabanelle", "cam-1", contracts.MessageKind.ALERT)


def received(message: contracts.WireMessage, mid: int = 1) -> Received:
    topic = contracts.topic_for(message.site_id, message.camera_id, _kind(message))
    return Received(topic, contracts.encode_message(message), mid, 1)


def _kind(message: contracts.WireMessage) -> contracts.MessageKind:
    if isinstance(message, contracts.AlertMessage):
        return contracts.MessageKind.ALERT
    if isinstance(message, contracts.HeartbeatMessage):
        return contracts.MessageKind.HEARTBEAT
    return contracts.MessageKind.STATUS


def heartbeat(sent_after_s: float, frame_age_s: float = 1.0) -> contracts.HeartbeatMessage:
    return contracts.HeartbeatMessage(
        site_id="cabanelle",
        camera_id="cam-1",
        sent_at=T0 + timedelta(seconds=sent_after_s),
        interval_s=30.0,
        health=contracts.CameraHealth(
            frames_per_s=1.0,
            analysed_frames=100,
            skipped_frames=3,
            corrupt_frames=0,
            last_frame_age_s=frame_age_s,
            reconnects=0,
            blind_s=0.0,
            frozen=False,
            outbox_depth=2,
            outbox_evicted=0,
        ),
    )


def status(
    camera_id: str, state: contracts.CameraState, after_s: float
) -> contracts.CameraStatusMessage:
    return contracts.CameraStatusMessage(
        site_id="cabanelle",
        camera_id=camera_id,
        state=state,
        reason="test",
        changed_at=T0 + timedelta(seconds=after_s),
    )


def make_store(
    sessions: sessionmaker[Session],
    stop: threading.Event | None = None,
    listeners: list[Callable[[Handled], None]] | None = None,
) -> tuple[BatchStore, IngestMetrics]:
    metrics = IngestMetrics()
    store = BatchStore(
        sessions,
        FakeLocator(),
        CONFIG,
        metrics,
        stop or threading.Event(),
        listeners=listeners or [],
        retry_initial_s=0.01,
        retry_max_s=0.02,
    )
    return store, metrics


def count(sessions: sessionmaker[Session], model: type[Any]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("topic", "payload", "reason_part"),
    [
        (ALERT_TOPIC, b"{not json", "Invalid JSON"),
        (ALERT_TOPIC, b'{"schema_version": 1}', "alert_id"),
        ("vigifeu/v1/cabanelle/cam-1/selfie", b"{}", "unknown message kind"),
        # the payload is for another camera than the topic says
        (
            contracts.topic_for("cabanelle", "cam-2", contracts.MessageKind.ALERT),
            contracts.encode_message(alert(CABANELLE, azimuth_deg=240.0)),
            "topic says",
        ),
    ],
)
def test_bad_messages_are_quarantined_with_their_reason(
    sessions: sessionmaker[Session], topic: str, payload: bytes, reason_part: str
) -> None:
    store, metrics = make_store(sessions)
    assert store.store([Received(topic, payload, 1, 1)])
    with sessions() as session:
        row = session.scalars(select(QuarantinedMessage)).one()
        assert reason_part in row.reason
        assert (row.topic, row.payload, row.payload_size) == (topic, payload[:100], len(payload))
    assert metrics.snapshot() == {"batches": 1, "received": 1, "quarantined": 1}


def test_a_bad_message_does_not_cost_the_rest_of_the_batch(sessions: sessionmaker[Session]) -> None:
    seen: list[Handled] = []
    store, metrics = make_store(sessions, listeners=[seen.append])
    first, second = alert(CABANELLE, azimuth_deg=240.0), alert(CABANELLE, azimuth_deg=241.0)
    batch = [
        received(first, 1),
        Received(ALERT_TOPIC, b"garbage", 2, 1),
        received(second, 3),
        received(first, 4),  # redelivered copy
    ]
    assert store.store(batch)
    assert (count(sessions, Alert), count(sessions, QuarantinedMessage)) == (2, 1)
    assert metrics.snapshot() == {
        "batches": 1,
        "received": 4,
        "ingested": 2,
        "quarantined": 1,
        "duplicates": 1,
    }
    assert [item.kind for item in seen] == [
        HandledKind.ALERT,
        HandledKind.QUARANTINED,
        HandledKind.ALERT,
        HandledKind.ALERT,
    ]


def test_heartbeats_update_health_and_older_ones_are_ignored(
    sessions: sessionmaker[Session],
) -> None:
    store, metrics = make_store(sessions)
    assert store.store([received(heartbeat(60, frame_age_s=2.0)), received(heartbeat(30, 9.0))])
    with sessions() as session:
        camera = session.scalars(select(Camera)).one()
        assert camera.last_heartbeat_at == T0 + timedelta(seconds=60)
        assert camera.health is not None
        assert camera.health["last_frame_age_s"] == 2.0
        assert camera.heartbeat_interval_s == 30.0
    assert metrics.snapshot()["heartbeats"] == 2


def test_statuses_of_cameras_and_of_the_edge_box(sessions: sessionmaker[Session]) -> None:
    store, _ = make_store(sessions)
    messages = [
        status("cam-1", contracts.CameraState.ONLINE, 10),
        status("cam-1", contracts.CameraState.DEGRADED, 5),  # stale retained replay
        status(contracts.EDGE_STATUS_CAMERA_ID, contracts.CameraState.OFFLINE, 20),
    ]
    assert store.store([received(message) for message in messages])
    with sessions() as session:
        camera = session.scalars(select(Camera)).one()
        site = session.get_one(Site, "cabanelle")
        assert (camera.state, site.edge_state) == ("online", "offline")


class FlakySessions:
    """A session factory whose first ``failures`` commits fail as if the database were down."""

    def __init__(self, sessions: sessionmaker[Session], failures: int) -> None:
        self.sessions = sessions
        self.failures = failures

    def __call__(self) -> Session:
        session = self.sessions()
        if self.failures > 0:
            self.failures -= 1

            def fail() -> None:
                raise exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

            session.commit = fail  # type: ignore[method-assign]
        return session


def test_database_outage_is_retried_until_the_commit_succeeds(
    sessions: sessionmaker[Session],
) -> None:
    store, metrics = make_store(FlakySessions(sessions, failures=3))  # type: ignore[arg-type]
    assert store.store([received(alert(CABANELLE, azimuth_deg=240.0))])
    assert count(sessions, Alert) == 1
    assert metrics.snapshot()["database_retries"] == 3


def test_stopping_during_an_outage_leaves_the_batch_unacknowledged(
    sessions: sessionmaker[Session],
) -> None:
    stop = threading.Event()
    stop.set()
    store, _ = make_store(FlakySessions(sessions, failures=100), stop=stop)  # type: ignore[arg-type]
    assert not store.store([received(alert(CABANELLE, azimuth_deg=240.0))])
    assert count(sessions, Alert) == 0


def test_a_message_that_breaks_processing_is_isolated_and_quarantined(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    poisoned = alert(CABANELLE, azimuth_deg=240.0)
    real_handle = batch_module.handle_batch

    def handle(session: Session, messages: list[Received], *args: Any) -> list[Handled]:
        if any(message.mid == 2 for message in messages):
            raise ValueError("bug in our code")
        return real_handle(session, messages, *args)

    monkeypatch.setattr(batch_module, "handle_batch", handle)
    store, metrics = make_store(sessions)
    batch = [
        received(alert(CABANELLE, azimuth_deg=240.0), 1),
        received(poisoned, 2),
        received(alert(CABANELLE, azimuth_deg=240.0), 3),
    ]
    assert store.store(batch)
    assert count(sessions, Alert) == 2
    with sessions() as session:
        row = session.scalars(select(QuarantinedMessage)).one()
        assert row.reason == "processing failed: ValueError: bug in our code"
    assert metrics.snapshot()["processing_errors"] == 1


def test_a_failing_listener_does_not_stop_ingest(sessions: sessionmaker[Session]) -> None:
    def broken(_: Handled) -> None:
        raise RuntimeError("console is down")

    store, metrics = make_store(sessions, listeners=[broken])
    assert store.store([received(alert(CABANELLE, azimuth_deg=240.0))])
    assert metrics.snapshot()["ingested"] == 1


def test_a_batch_locates_each_incident_once(sessions: sessionmaker[Session]) -> None:
    locator = FakeLocator()
    store = BatchStore(sessions, locator, CONFIG, IngestMetrics(), threading.Event())
    event_id = uuid.uuid4()
    steps = [
        alert(
            CABANELLE,
            azimuth_deg=240.0,
            event_id=event_id,
            sequence=step,
            captured_at=T0 + timedelta(seconds=60 * step),
            boxes=[box(0.5 + step / 100)],
        )
        for step in range(6)
    ]
    assert store.store([received(step, mid) for mid, step in enumerate(steps, 1)])
    assert len(locator.calls) == 1


def test_an_event_created_meanwhile_by_another_instance_is_continued(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances get alerts of one new event at once: the second to commit breaks the
    events' unique key, stores its batch again and then continues the stored event."""
    event_id = uuid.uuid4()
    first = alert(CABANELLE, azimuth_deg=240.0, event_id=event_id)
    second = alert(
        CABANELLE, azimuth_deg=240.0, event_id=event_id, sequence=1, captured_at=later(60)
    )
    other_instance, _ = make_store(sessions)
    assert other_instance.store([received(first, 1)])
    real_prefetch = service_module.prefetch
    calls = []

    def prefetch_before_the_other_commit(*args: Any) -> None:
        # The first read happens before the other instance's commit: the event looks new.
        calls.append(1)
        if len(calls) > 1:
            real_prefetch(*args)

    monkeypatch.setattr(service_module, "prefetch", prefetch_before_the_other_commit)
    store, metrics = make_store(sessions)
    assert store.store([received(second, 2)])
    assert metrics.snapshot()["conflict_retries"] == 1
    assert "processing_errors" not in metrics.snapshot()
    assert count(sessions, Alert) == 2
    assert count(sessions, Event) == 1
    assert count(sessions, Incident) == 1
    assert count(sessions, QuarantinedMessage) == 0
