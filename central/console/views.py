"""Read models of the console pages: plain dataclasses built from the database, no HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from central.api.schemas import snapshot_url
from central.console.actions import FALSE_POSITIVE_LABELS_FR, STATUS_LABELS_FR, FalsePositive
from central.db import (
    Alert,
    AlertSnapshot,
    AuditEntry,
    Camera,
    Dispatch,
    Event,
    Incident,
    Location,
    Operator,
)
from central.dispatch.facts import camera_views
from central.dispatch.message import bearing_text, caveat_text
from central.incidents.lifecycle import OPEN_STATUSES, IncidentStatus

PARIS = ZoneInfo("Europe/Paris")

AUDIT_LABELS_FR = {
    "incident.created": "Incident créé",
    "incident.acknowledged": "Acquitté",
    "incident.confirmed": "Confirmé",
    "incident.dismissed": "Écarté",
    "incident.dispatched": "Secours engagés",
    "incident.closed": "Clos",
    "incident.escalated": "Relance (non acquitté)",
    "incident.merged": "Regroupé dans un autre incident",
    "incident.joined": "A reçu les détections d'un autre incident",
    "incident.split": "Détection séparée en un nouvel incident",
    "dispatch.queued": "Envoi programmé",
    "dispatch.sent": "Envoyé",
    "dispatch.failed": "Échec d'envoi",
}


def local_time(moment: datetime | None, pattern: str = "%d/%m %H:%M:%S") -> str:
    return moment.astimezone(PARIS).strftime(pattern) if moment is not None else ""


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: int
    status: str
    status_label: str
    detection_class: str
    first_seen: str
    first_seen_iso: str
    confidence_pct: int
    commune: str | None
    massif: str | None
    dfci_code: str | None
    method: str | None
    uncertainty_m: float | None
    caveat: str | None  # why the position is degraded, in words
    latitude_deg: float | None
    longitude_deg: float | None
    cameras: tuple[str, ...]
    acknowledged: bool
    acknowledged_by: str | None
    false_positive: str | None
    merged_into_id: int | None


def location_caveat(location: Location | None) -> str | None:
    """Why the position is degraded, with the cameras whose bearing was left out, if any."""
    if location is None or not location.degenerate:
        return None
    outliers = location.estimate.get("outlier_cameras") or []
    text = caveat_text(location.degenerate, "fr")
    return f"{text} : {', '.join(outliers)}" if outliers else text


def incident_row(session: Session, incident: Incident, names: dict[int, str]) -> IncidentRow:
    location = incident.location
    fp = incident.false_positive_type
    return IncidentRow(
        id=incident.id,
        status=str(incident.status),
        status_label=STATUS_LABELS_FR[IncidentStatus(incident.status)],
        detection_class=incident.detection_class,
        first_seen=local_time(incident.first_seen_at),
        first_seen_iso=incident.first_seen_at.isoformat(),
        confidence_pct=round(100 * incident.max_score),
        commune=location.commune if location else None,
        massif=location.massif if location else None,
        dfci_code=location.dfci_code if location else None,
        method=location.method if location else None,
        uncertainty_m=location.semi_major_m if location else None,
        caveat=location_caveat(location),
        latitude_deg=location.latitude_deg if location else None,
        longitude_deg=location.longitude_deg if location else None,
        cameras=tuple(
            f"{view.camera_key} ({bearing_text(view, 'fr')})"
            for view in camera_views(session, incident)
        ),
        acknowledged=incident.acknowledged_at is not None,
        acknowledged_by=names.get(incident.acknowledged_by or -1),
        false_positive=FALSE_POSITIVE_LABELS_FR.get(FalsePositive(fp)) if fp else None,
        merged_into_id=incident.merged_into_id,
    )


def operator_names(session: Session) -> dict[int, str]:
    return {o.id: o.display_name for o in session.scalars(select(Operator))}


def _with_children() -> Sequence[Any]:
    return (
        selectinload(Incident.location),
        selectinload(Incident.events).selectinload(Event.alerts),
    )


def open_incidents(session: Session) -> list[IncidentRow]:
    """Open incidents, unacknowledged first, then newest first."""
    incidents = session.scalars(
        select(Incident)
        .where(Incident.status.in_(sorted(OPEN_STATUSES)))
        .options(*_with_children())
        .order_by(Incident.acknowledged_at.is_not(None), Incident.created_at.desc())
    ).all()
    names = operator_names(session)
    return [incident_row(session, incident, names) for incident in incidents]


def load_row(session: Session, incident_id: int) -> IncidentRow | None:
    incident = session.get(Incident, incident_id, options=_with_children())
    return incident_row(session, incident, operator_names(session)) if incident else None


@dataclass(frozen=True, slots=True)
class EventLine:
    """One camera's event in an incident: what an operator splits out when it is another fire."""

    event_id: str
    camera: str
    started: str
    last_seen: str
    alert_count: int
    confidence_pct: int


def event_lines(session: Session, incident_id: int) -> list[EventLine]:
    rows = session.execute(
        select(Event, Camera)
        .join(Camera, Camera.id == Event.camera_pk)
        .where(Event.incident_id == incident_id)
        .order_by(Event.started_at, Camera.site_id, Camera.camera_id)
    ).all()
    return [
        EventLine(
            event_id=str(event.id),
            camera=camera.key,
            started=local_time(event.started_at),
            last_seen=local_time(event.last_captured_at),
            alert_count=event.alert_count,
            confidence_pct=round(100 * event.max_score),
        )
        for event, camera in rows
    ]


@dataclass(frozen=True, slots=True)
class MergeTarget:
    """Another open incident this one can be merged into, as the operator picks it."""

    id: int
    label: str


def merge_targets(session: Session, incident_id: int, limit: int = 30) -> list[MergeTarget]:
    """The other open incidents, most recently seen first."""
    incidents = session.scalars(
        select(Incident)
        .where(Incident.status.in_(sorted(OPEN_STATUSES)), Incident.id != incident_id)
        .options(selectinload(Incident.location))
        .order_by(Incident.last_seen_at.desc())
        .limit(limit)
    ).all()
    targets = []
    for incident in incidents:
        place = incident.location.commune if incident.location else None
        label = f"n° {incident.id} – {place or 'position inconnue'}"
        targets.append(
            MergeTarget(incident.id, f"{label} – vu {local_time(incident.last_seen_at)}")
        )
    return targets


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture of the player: a full snapshot and its boxes (normalised xyxy)."""

    src: str
    camera: str
    captured_at: str
    score: float
    boxes: list[dict[str, Any]]


def frames(session: Session, incident_id: int) -> list[Frame]:
    """Every full snapshot of the incident's alerts, in capture order."""
    rows = session.execute(
        select(Alert, AlertSnapshot.sha256, Camera.site_id, Camera.camera_id)
        .join(Event, Event.id == Alert.event_id)
        .join(AlertSnapshot, AlertSnapshot.alert_pk == Alert.id)
        .join(Camera, Camera.id == Alert.camera_pk)
        .where(Event.incident_id == incident_id, AlertSnapshot.kind == "full")
        .order_by(Alert.captured_at, Alert.id)
    ).all()
    return [
        Frame(
            src=snapshot_url(sha),
            camera=f"{site}/{camera}",
            captured_at=local_time(alert.captured_at),
            score=round(alert.score, 3),
            boxes=list(alert.boxes),
        )
        for alert, sha, site, camera in rows
    ]


@dataclass(frozen=True, slots=True)
class DispatchLine:
    channel: str
    status: str
    attempts: int
    sent_at: str
    last_error: str | None


def dispatch_lines(session: Session, incident_id: int) -> list[DispatchLine]:
    rows = session.scalars(
        select(Dispatch).where(Dispatch.incident_id == incident_id).order_by(Dispatch.id)
    ).all()
    return [
        DispatchLine(r.channel, r.status, r.attempts, local_time(r.sent_at), r.last_error)
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: str
    action: str
    label: str
    actor: str
    details: dict[str, Any]


def audit_lines(session: Session, incident_id: int) -> list[AuditLine]:
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.incident_id == incident_id).order_by(AuditEntry.id)
    ).all()
    return [
        AuditLine(
            local_time(r.at, "%d/%m/%Y %H:%M:%S"),
            r.action,
            AUDIT_LABELS_FR.get(r.action, r.action),
            r.actor,
            dict(r.details or {}),
        )
        for r in rows
    ]
