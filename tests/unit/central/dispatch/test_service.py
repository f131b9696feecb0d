from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.audit import record_audit
from central.db import AuditEntry, Dispatch, Incident
from central.dispatch.channels import RecordingSender, Sender
from central.dispatch.config import DispatchConfig
from central.dispatch.kpis import load_times, summarise
from central.dispatch.links import Links
from central.dispatch.service import DispatchService
from central.events_bus import EventBus
from tests.unit.central.dispatch.factories import add_incident

T0 = datetime(2025, 7, 28, 10, 0, tzinfo=UTC)
CONFIG = DispatchConfig.model_validate(
    {
        "channels": {
            "hook": {"type": "webhook", "url": "http://127.0.0.1:9/hook"},
            "mail": {
                "type": "email",
                "host": "127.0.0.1",
                "sender": "a@b.c",
                "recipients": ["d@e.f"],
            },
        },
        "rules": [
            {"name": "esterel", "massifs": ["Esterel"], "channels": ["mail"]},
            {"name": "all", "channels": ["hook"]},
        ],
        "escalation": {"after_s": 600, "channels": ["mail"]},
        "retry": {"max_attempts": 3, "first_delay_s": 10, "max_delay_s": 60},
    }
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def make_service(
    sessions: sessionmaker[Session], senders: dict[str, Sender], clock: Clock
) -> DispatchService:
    return DispatchService(
        CONFIG, sessions, Links("http://console.local"), senders, EventBus(), clock
    )


def actions(session: Session, incident_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.incident_id == incident_id)
            .order_by(AuditEntry.id)
        )
    )


def test_queue_is_idempotent_per_incident_and_channel(sessions: sessionmaker[Session]) -> None:
    service = make_service(sessions, {}, Clock())
    with sessions.begin() as session:
        incident = add_incident(session)
        first = service.queue(session, incident, "dispatch", None)
    with sessions.begin() as session:
        again = service.queue(session, session.get_one(Incident, incident.id), "dispatch", None)
    assert first == ["mail", "hook"]
    assert again == []
    with sessions() as session:
        assert session.scalars(select(Dispatch.channel).order_by(Dispatch.id)).all() == [
            "mail",
            "hook",
        ]
        assert actions(session, incident.id) == ["dispatch.queued", "dispatch.queued"]


def test_delivery_sends_once_and_records(sessions: sessionmaker[Session]) -> None:
    hook, mail = RecordingSender(), RecordingSender()
    service = make_service(sessions, {"hook": hook, "mail": mail}, Clock())
    with sessions.begin() as session:
        incident = add_incident(session)
        service.queue(session, incident, "dispatch", None)

    assert asyncio.run(service.deliver_due()) == 2
    assert asyncio.run(service.deliver_due()) == 0
    assert [o.facts.incident_id for o in hook.sent + mail.sent] == [incident.id, incident.id]
    assert hook.sent[0].facts.cameras[0].azimuth_deg == 201.0
    assert hook.sent[0].facts.console_url == f"http://console.local/incidents/{incident.id}"
    with sessions() as session:
        rows = session.scalars(select(Dispatch)).all()
        assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
        assert actions(session, incident.id).count("dispatch.sent") == 2


def test_two_instances_never_send_the_same_row(sessions: sessionmaker[Session]) -> None:
    hook = RecordingSender()
    clock = Clock()
    first = make_service(sessions, {"hook": hook, "mail": RecordingSender()}, clock)
    second = make_service(sessions, {"hook": hook, "mail": RecordingSender()}, clock)
    with sessions.begin() as session:
        first.queue(session, add_incident(session, massif=None), "dispatch", None)

    async def both() -> list[int]:
        return list(await asyncio.gather(first.deliver_due(), second.deliver_due()))

    assert sorted(asyncio.run(both())) == [0, 1]
    assert len(hook.sent) == 1


def test_failures_back_off_then_give_up(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    hook = RecordingSender(failures=10)
    service = make_service(sessions, {"hook": hook}, clock)
    with sessions.begin() as session:
        incident = add_incident(session, massif=None)
        service.queue(session, incident, "dispatch", None)

    asyncio.run(service.deliver_due())
    with sessions() as session:
        row = session.scalars(select(Dispatch)).one()
        assert (row.status, row.attempts) == ("retrying", 1)
        assert row.next_attempt_at == T0 + timedelta(seconds=10)
        assert row.last_error == "scripted failure 1"
    assert asyncio.run(service.deliver_due()) == 0  # not due yet
    for step_s in (10, 20):  # 10 s, then 20 s backoff
        clock.now += timedelta(seconds=step_s)
        assert asyncio.run(service.deliver_due()) == 1
    with sessions() as session:
        row = session.scalars(select(Dispatch)).one()
        assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
        assert actions(session, incident.id)[-1] == "dispatch.failed"


def test_a_retry_succeeds(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    hook = RecordingSender(failures=1)
    service = make_service(sessions, {"hook": hook}, clock)
    with sessions.begin() as session:
        service.queue(session, add_incident(session, massif=None), "dispatch", None)
    asyncio.run(service.deliver_due())
    clock.now += timedelta(seconds=10)
    asyncio.run(service.deliver_due())
    assert len(hook.sent) == 1
    with sessions() as session:
        assert session.scalars(select(Dispatch.status)).one() == "sent"


def test_escalation_of_unacknowledged_incidents_only(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    mail = RecordingSender()
    service = make_service(sessions, {"mail": mail}, clock)
    with sessions.begin() as session:
        late = add_incident(session, created_at=T0 - timedelta(seconds=601)).id
        young = add_incident(session, created_at=T0 - timedelta(seconds=30)).id
        seen = add_incident(session, created_at=T0 - timedelta(seconds=900))
        seen.acknowledged_at = T0 - timedelta(seconds=800)

    assert service.escalate_overdue() == [late]
    assert service.escalate_overdue() == []  # once only
    asyncio.run(service.deliver_due())
    assert [(o.facts.incident_id, o.purpose) for o in mail.sent] == [(late, "escalation")]
    clock.now += timedelta(seconds=600)
    assert service.escalate_overdue() == [young]
    with sessions() as session:
        assert actions(session, late) == ["dispatch.queued", "incident.escalated", "dispatch.sent"]
        assert session.scalars(
            select(Dispatch.channel).where(Dispatch.incident_id == late)
        ).all() == ["escalation:mail"]


def test_kpis_per_day(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        fast = add_incident(session, created_at=T0)
        fast.acknowledged_at = T0 + timedelta(seconds=40)
        record_audit(session, "incident.dispatched", incident_id=fast.id).at = T0 + timedelta(
            seconds=100
        )
        slow = add_incident(session, created_at=T0 + timedelta(hours=1))
        slow.acknowledged_at = slow.created_at + timedelta(seconds=120)
        add_incident(session, created_at=T0 + timedelta(days=1))  # next day, never seen
    with sessions() as session:
        times = load_times(session, T0 - timedelta(days=1), T0 + timedelta(days=2))
    days = summarise(times, "day", CONFIG.zone)
    assert [d.incidents for d in days] == [2, 1]
    assert days[0].time_to_acknowledge.median_s == 80.0
    assert days[0].time_to_acknowledge.p90_s == 120.0
    assert days[0].time_to_dispatch.count == 1
    assert days[0].time_to_dispatch.median_s == 100.0
    assert days[1].unacknowledged == 1
    assert days[1].time_to_acknowledge.median_s is None
