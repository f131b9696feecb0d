"""Read incidents for the API and the console: filters, pagination, one incident in full."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from central.db import Alert, Camera, Event, Incident, Location
from central.errors import NotFound
from central.incidents.lifecycle import IncidentStatus


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """All given conditions must hold. ``since``/``until`` select incidents active in between."""

    statuses: tuple[IncidentStatus, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    massif: str | None = None
    commune: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    incident: Incident
    camera_keys: tuple[str, ...]
    alert_count: int


@dataclass(frozen=True, slots=True)
class IncidentPage:
    items: list[IncidentSummary] = field(default_factory=list)
    total: int = 0


def _filtered(query: Select[Incident], wanted: IncidentFilter) -> Select[Incident]:
    if wanted.statuses:
        query = query.where(Incident.status.in_(wanted.statuses))
    if wanted.since is not None:
        query = query.where(Incident.last_seen_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Incident.first_seen_at <= wanted.until)
    if wanted.massif is not None or wanted.commune is not None:
        query = query.join(Location, Location.incident_id == Incident.id)
        if wanted.massif is not None:
            query = query.where(Location.massif == wanted.massif)
        if wanted.commune is not None:
            query = query.where(Location.commune == wanted.commune)
    return query


def summarise(session: Session, incidents: Sequence[Incident]) -> list[IncidentSummary]:
    """Camera keys and alert counts of ``incidents``, in two queries for the whole page."""
    ids = [incident.id for incident in incidents]
    cameras: dict[int, set[str]] = {incident_id: set() for incident_id in ids}
    for incident_id, site_id, camera_id in session.execute(
        select(Event.incident_id, Camera.site_id, Camera.camera_id)
        .join(Camera, Event.camera_pk == Camera.id)
        .where(Event.incident_id.in_(ids))
        .distinct()
    ):
        cameras[incident_id].add(f"{site_id}/{camera_id}")
    counts = dict(
        session.execute(
            select(Event.incident_id, func.coalesce(func.sum(Event.alert_count), 0))
            .where(Event.incident_id.in_(ids))
            .group_by(Event.incident_id)
        ).all()
    )
    return [
        IncidentSummary(
            incident, tuple(sorted(cameras[incident.id])), int(counts.get(incident.id, 0))
        )
        for incident in incidents
    ]


def list_incidents(
    session: Session, wanted: IncidentFilter, limit: int, offset: int
) -> IncidentPage:
    """A page of incidents, most recently active first, with the total matching count."""
    total = session.scalar(
        select(func.count()).select_from(_filtered(select(Incident), wanted).subquery())
    )
    incidents = session.scalars(
        _filtered(select(Incident), wanted)
        .options(selectinload(Incident.location))
        .order_by(Incident.last_seen_at.desc(), Incident.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return IncidentPage(summarise(session, incidents), int(total or 0))


def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


def incident_alerts(session: Session, incident_id: int) -> list[Alert]:
    """Every alert of the incident in capture order, with snapshots and events loaded."""
    return list(
        session.scalars(
            select(Alert)
            .join(Event, Alert.event_id == Event.id)
            .where(Event.incident_id == incident_id)
            .options(selectinload(Alert.snapshots))
            .order_by(Alert.captured_at, Alert.id)
        ).all()
    )
