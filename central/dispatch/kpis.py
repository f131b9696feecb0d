"""Response-time indicators: time to acknowledge and time to dispatch, per day, week or month.

Both are measured from the moment central created the incident (what an operator could first
see) to the first acknowledgement (``incidents.acknowledged_at``) and to the first
``incident.dispatched`` entry of the audit trail. Periods are calendar periods in the local
time zone; an incident belongs to the period in which it was created.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.db import AuditEntry, Incident
from central.incidents.lifecycle import IncidentStatus

Period = Literal["day", "week", "month"]
DISPATCHED_ACTION = "incident.dispatched"


@dataclass(frozen=True, slots=True)
class IncidentTimes:
    created_at: datetime
    acknowledged_at: datetime | None
    dispatched_at: datetime | None
    dismissed: bool


@dataclass(frozen=True, slots=True)
class DelayStats:
    count: int
    median_s: float | None
    p90_s: float | None
    max_s: float | None


@dataclass(frozen=True, slots=True)
class PeriodKpis:
    period_start: date
    incidents: int
    dismissed: int
    unacknowledged: int
    time_to_acknowledge: DelayStats
    time_to_dispatch: DelayStats


def period_start(moment: datetime, period: Period, zone: ZoneInfo) -> date:
    local = moment.astimezone(zone).date()
    if period == "week":
        return local - timedelta(days=local.weekday())
    if period == "month":
        return local.replace(day=1)
    return local


def delay_stats(delays_s: Sequence[float]) -> DelayStats:
    if not delays_s:
        return DelayStats(0, None, None, None)
    ordered = sorted(delays_s)
    # Nearest-rank p90: with few incidents a period's p90 is an actual observed delay.
    p90 = ordered[min(len(ordered) - 1, max(0, -(-9 * len(ordered) // 10) - 1))]
    return DelayStats(len(ordered), statistics.median(ordered), p90, ordered[-1])


def summarise(times: Iterable[IncidentTimes], period: Period, zone: ZoneInfo) -> list[PeriodKpis]:
    """Group incidents by creation period (oldest first) and summarise their delays."""
    groups: dict[date, list[IncidentTimes]] = {}
    for item in times:
        groups.setdefault(period_start(item.created_at, period, zone), []).append(item)
    result = []
    for start in sorted(groups):
        items = groups[start]
        to_ack = [
            (i.acknowledged_at - i.created_at).total_seconds()
            for i in items
            if i.acknowledged_at is not None
        ]
        to_dispatch = [
            (i.dispatched_at - i.created_at).total_seconds()
            for i in items
            if i.dispatched_at is not None
        ]
        result.append(
            PeriodKpis(
                period_start=start,
                incidents=len(items),
                dismissed=sum(i.dismissed for i in items),
                unacknowledged=sum(i.acknowledged_at is None for i in items),
                time_to_acknowledge=delay_stats(to_ack),
                time_to_dispatch=delay_stats(to_dispatch),
            )
        )
    return result


def load_times(session: Session, since: datetime, until: datetime) -> list[IncidentTimes]:
    dispatched = (
        select(AuditEntry.incident_id, func.min(AuditEntry.at).label("at"))
        .where(AuditEntry.action == DISPATCHED_ACTION)
        .group_by(AuditEntry.incident_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Incident.created_at,
            Incident.acknowledged_at,
            dispatched.c.at,
            Incident.status,
        )
        .outerjoin(dispatched, dispatched.c.incident_id == Incident.id)
        .where(Incident.created_at >= since, Incident.created_at < until)
    ).all()
    return [
        IncidentTimes(
            created_at=created,
            acknowledged_at=acknowledged,
            dispatched_at=dispatched_at,
            dismissed=status == IncidentStatus.DISMISSED,
        )
        for created, acknowledged, dispatched_at, status in rows
    ]
