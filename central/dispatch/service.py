"""Queue, send, retry and escalate dispatches; every step in the audit trail.

The ``dispatches`` table is the outbox. ``queue`` inserts one row per routed channel, in the
caller's transaction; the unique (incident, channel) constraint makes a second request (a double
click, two operators, two central instances) insert nothing. ``deliver_due`` claims due rows
with a conditional UPDATE (so two instances never send the same row twice at once), sends them
concurrently and records the result; failures are retried with capped backoff. A row left in
``sending`` by a crash is claimed again once its lease expires. Escalations are dispatch rows
keyed ``escalation:<channel>``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from central.audit import record_audit
from central.db import Dispatch, Incident, Operator, utc_now
from central.dispatch.channels import DeliveryError, Outgoing, Sender
from central.dispatch.config import DispatchConfig
from central.dispatch.facts import incident_facts
from central.dispatch.links import Links
from central.dispatch.message import IncidentFacts, Purpose
from central.dispatch.retry import next_attempt_at
from central.dispatch.rules import route
from central.events_bus import Change, EventBus
from central.incidents.lifecycle import IncidentStatus

logger = logging.getLogger(__name__)

ESCALATION_PREFIX = "escalation:"
# A claimed row not finished within this lease is presumed orphaned (crashed instance) and
# claimed again; it must exceed the slowest channel timeout (120 s at most, see config).
CLAIM_LEASE_S = 180.0
UNACKNOWLEDGED = (IncidentStatus.NEW, IncidentStatus.CONFIRMED)


def delivery_key(channel: str, purpose: Purpose) -> str:
    return f"{ESCALATION_PREFIX}{channel}" if purpose == "escalation" else channel


def split_key(key: str) -> tuple[str, Purpose]:
    if key.startswith(ESCALATION_PREFIX):
        return key.removeprefix(ESCALATION_PREFIX), "escalation"
    return key, "dispatch"


@dataclass(frozen=True, slots=True)
class _Claim:
    dispatch_id: int
    incident_id: int
    channel: str
    purpose: Purpose
    attempt: int
    facts: IncidentFacts


def _insert_ignoring_duplicate(session: Session, values: dict[str, Any]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING on (incident_id, channel); the new id or None."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(Dispatch)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["incident_id", "channel"])
        .returning(Dispatch.id)
    )
    return session.execute(statement).scalar_one_or_none()


class DispatchService:
    def __init__(
        self,
        config: DispatchConfig,
        sessions: sessionmaker[Session],
        links: Links,
        senders: Mapping[str, Sender],
        bus: EventBus | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.links = links
        self.senders = senders
        self.bus = bus
        self.clock = clock

    def channels_for(
        self, session: Session, incident: Incident, purpose: Purpose
    ) -> tuple[str, ...]:
        if purpose == "escalation":
            return self.config.escalation.channels
        location = incident.location
        return route(
            self.config,
            location.massif if location is not None else None,
            location.commune if location is not None else None,
            self.clock(),
        )

    def queue(
        self, session: Session, incident: Incident, purpose: Purpose, operator: Operator | None
    ) -> list[str]:
        """Add the deliveries of ``incident`` for ``purpose``; the channels newly queued.

        Channels already queued for this incident (any status) are skipped: that is the
        idempotency. Does not commit.
        """
        now = self.clock()
        queued = []
        for channel in self.channels_for(session, incident, purpose):
            new_id = _insert_ignoring_duplicate(
                session,
                {
                    "incident_id": incident.id,
                    "channel": delivery_key(channel, purpose),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                    "next_attempt_at": now,
                    "details": {"purpose": purpose, "requested_by": _actor(operator)},
                },
            )
            if new_id is None:
                continue
            queued.append(channel)
            record_audit(
                session,
                "dispatch.queued",
                incident_id=incident.id,
                operator=operator,
                details={"channel": channel, "purpose": purpose},
            )
        return queued

    def escalate_overdue(self) -> list[int]:
        """Queue escalations of incidents unacknowledged for ``escalation.after_s``; their ids."""
        if not self.config.escalation.channels:
            return []
        cutoff = self.clock() - timedelta(seconds=self.config.escalation.after_s)
        escalated = []
        with self.sessions.begin() as session:
            already = exists().where(
                Dispatch.incident_id == Incident.id,
                Dispatch.channel.startswith(ESCALATION_PREFIX),
            )
            overdue = session.scalars(
                select(Incident).where(
                    Incident.status.in_(UNACKNOWLEDGED),
                    Incident.acknowledged_at.is_(None),
                    Incident.created_at <= cutoff,
                    ~already,
                )
            ).all()
            for incident in overdue:
                if self.queue(session, incident, "escalation", None):
                    record_audit(
                        session,
                        "incident.escalated",
                        incident_id=incident.id,
                        details={"after_s": self.config.escalation.after_s},
                    )
                    escalated.append(incident.id)
        for incident_id in escalated:
            self._publish(incident_id, "escalated")
        return escalated

    def _claim_due(self) -> list[_Claim]:
        now = self.clock()
        claims = []
        with self.sessions.begin() as session:
            due = session.scalars(
                select(Dispatch)
                .where(
                    or_(
                        and_(
                            Dispatch.status.in_(("pending", "retrying")),
                            Dispatch.next_attempt_at <= now,
                        ),
                        and_(Dispatch.status == "sending", Dispatch.next_attempt_at <= now),
                    )
                )
                .order_by(Dispatch.id)
            ).all()
            for row in due:
                claimed = session.execute(
                    update(Dispatch)
                    .where(
                        Dispatch.id == row.id,
                        Dispatch.status == row.status,
                        Dispatch.attempts == row.attempts,
                    )
                    .values(
                        status="sending",
                        attempts=row.attempts + 1,
                        updated_at=now,
                        next_attempt_at=now + timedelta(seconds=CLAIM_LEASE_S),
                    )
                    .execution_options(synchronize_session=False)
                )
                if getattr(claimed, "rowcount", 0) != 1:
                    continue  # another instance took it
                channel, purpose = split_key(row.channel)
                incident = session.get_one(Incident, row.incident_id)
                claims.append(
                    _Claim(
                        row.id,
                        row.incident_id,
                        channel,
                        purpose,
                        row.attempts + 1,
                        incident_facts(session, incident, self.links),
                    )
                )
        return claims

    def _record(self, claim: _Claim, error: str | None) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get_one(Dispatch, claim.dispatch_id)
            row.updated_at = now
            details = {"channel": claim.channel, "purpose": claim.purpose, "attempt": claim.attempt}
            if error is None:
                row.status, row.sent_at, row.next_attempt_at = "sent", now, None
                record_audit(
                    session, "dispatch.sent", incident_id=claim.incident_id, details=details
                )
                return
            row.last_error = error[:2000]
            retry_at = next_attempt_at(self.config.retry, claim.attempt, now)
            row.next_attempt_at = retry_at
            row.status = "retrying" if retry_at is not None else "failed"
            if retry_at is None:
                record_audit(
                    session,
                    "dispatch.failed",
                    incident_id=claim.incident_id,
                    details={**details, "error": row.last_error},
                )

    async def _deliver(self, claim: _Claim) -> None:
        sender = self.senders.get(claim.channel)
        error: str | None = None
        if sender is None:
            error = f"channel {claim.channel!r} is not configured"
        else:
            outgoing = Outgoing(claim.facts, claim.purpose, claim.channel, self.clock())
            try:
                await sender.send(outgoing)
            except DeliveryError as failure:
                error = str(failure)
        if error is not None:
            logger.warning(
                "dispatch of incident %d on %s failed (attempt %d): %s",
                claim.incident_id,
                claim.channel,
                claim.attempt,
                error,
            )
        await asyncio.to_thread(self._record, claim, error)
        self._publish(claim.incident_id, "dispatch")

    async def deliver_due(self) -> int:
        """Send every due delivery (concurrently); returns how many were tried."""
        claims = await asyncio.to_thread(self._claim_due)
        await asyncio.gather(*(self._deliver(claim) for claim in claims))
        return len(claims)

    def _publish(self, incident_id: int, action: str) -> None:
        if self.bus is not None:
            self.bus.publish(Change("incident", str(incident_id), action))


def _actor(operator: Operator | None) -> str:
    return operator.username if operator is not None else "system"
