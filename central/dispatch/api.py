"""Dispatch API under ``/api/v1``: response-time KPIs and an incident's deliveries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from central.api.deps import SessionDep
from central.db import Dispatch, utc_now
from central.dispatch.kpis import DelayStats, Period, load_times, summarise
from central.dispatch.service import split_key
from central.errors import Conflict

router = APIRouter(tags=["dispatch"])

DEFAULT_WINDOW_DAYS = 30


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class DelayPublic(_Public):
    count: int
    median_s: float | None
    p90_s: float | None
    max_s: float | None


class PeriodKpisPublic(_Public):
    period_start: date
    incidents: int
    dismissed: int
    unacknowledged: int
    time_to_acknowledge: DelayPublic
    time_to_dispatch: DelayPublic


class KpisPublic(_Public):
    period: Period
    timezone: str
    since: datetime
    until: datetime
    periods: list[PeriodKpisPublic]


class DispatchPublic(_Public):
    channel: str
    purpose: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None


def _delay(stats: DelayStats) -> DelayPublic:
    return DelayPublic(
        count=stats.count, median_s=stats.median_s, p90_s=stats.p90_s, max_s=stats.max_s
    )


@router.get("/dispatch/kpis", response_model=KpisPublic)
def kpis(
    session: SessionDep,
    period: Period = "day",
    since: datetime | None = None,
    until: datetime | None = None,
    timezone: Annotated[str, Query(pattern=r"^[A-Za-z_]+/[A-Za-z_]+$")] = "Europe/Paris",
) -> KpisPublic:
    """Time to acknowledge and to dispatch (seconds from incident creation), per period.

    Defaults to the last 30 days; naive ``since``/``until`` are read as UTC.
    """
    try:
        zone = ZoneInfo(timezone)
    except ZoneInfoNotFoundError as error:
        raise Conflict(f"unknown timezone {timezone!r}") from error
    end = _utc(until) if until else utc_now()
    start = _utc(since) if since else end - timedelta(days=DEFAULT_WINDOW_DAYS)
    periods = summarise(load_times(session, start, end), period, zone)
    return KpisPublic(
        period=period,
        timezone=timezone,
        since=start,
        until=end,
        periods=[
            PeriodKpisPublic(
                period_start=p.period_start,
                incidents=p.incidents,
                dismissed=p.dismissed,
                unacknowledged=p.unacknowledged,
                time_to_acknowledge=_delay(p.time_to_acknowledge),
                time_to_dispatch=_delay(p.time_to_dispatch),
            )
            for p in periods
        ],
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.get("/incidents/{incident_id}/dispatches", response_model=list[DispatchPublic])
def incident_dispatches(session: SessionDep, incident_id: int) -> list[DispatchPublic]:
    rows = session.scalars(
        select(Dispatch).where(Dispatch.incident_id == incident_id).order_by(Dispatch.id)
    ).all()
    result = []
    for row in rows:
        channel, purpose = split_key(row.channel)
        result.append(
            DispatchPublic(
                channel=channel,
                purpose=purpose,
                status=row.status,
                attempts=row.attempts,
                created_at=row.created_at,
                sent_at=row.sent_at,
                next_attempt_at=row.next_attempt_at,
                last_error=row.last_error,
            )
        )
    return result
