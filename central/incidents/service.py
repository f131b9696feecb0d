"""Store one alert and fold it into an incident: idempotent, located, in the caller's transaction.

``ingest_alert`` never commits: the ingest consumer commits a batch of messages and only then
acknowledges them to the broker.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import contracts
from central.audit import record_audit
from central.db import Alert, AlertSnapshot, Event, Incident, Snapshot, utc_now
from central.db.registry import camera_for, pose_for
from central.incidents.clustering import (
    BearingCone,
    ClusterConfig,
    IncidentView,
    LocatedPoint,
    choose_incident,
    cone_from_box,
    point_radius_m,
)
from central.incidents.lifecycle import OPEN_STATUSES, IncidentStatus
from central.incidents.locating import Locator, latest_sightings_of, locate_incident
from central.incidents.memo import NOT_STORED, IngestMemo, incident_of_stored

logger = logging.getLogger(__name__)

DEFAULT_CLUSTER_CONFIG = ClusterConfig()
# Locations whose point gates clustering: two-camera fixes, and one-camera DEM fixes that passed
# the locator's quality gates. If a terrain fix is wrong, a second camera's true sighting makes
# a second incident: a duplicate for the operator, which is safer than hiding a fire in another.
POINT_METHODS = frozenset({"triangulation", "terrain"})


class IngestOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    alert_id: uuid.UUID
    incident_id: int  # of the first copy, for a duplicate
    incident_created: bool = False
    located: bool = False  # the location was (re)computed now (False when deferred)


def main_box(alert: contracts.AlertMessage) -> contracts.BoundingBox | None:
    """The box a sighting is made of: the highest-scoring one (None for an ``end``)."""
    return max(alert.boxes, key=lambda box: box.score, default=None)


def _candidate_views(
    session: Session, captured_at: datetime, config: ClusterConfig
) -> list[IncidentView]:
    incidents = session.scalars(
        select(Incident)
        .where(
            Incident.status.in_(sorted(OPEN_STATUSES)),
            Incident.last_seen_at >= captured_at - timedelta(seconds=config.window_s),
        )
        .options(selectinload(Incident.location))
    ).all()
    sightings = latest_sightings_of(session, [incident.id for incident in incidents])
    views = []
    for incident in incidents:
        cones = tuple(
            cone_from_box(s.camera_key, s.geometry, s.box, config.margin_deg)
            for s in sightings[incident.id]
        )
        location = incident.location
        point = None
        if (
            location is not None
            and location.method in POINT_METHODS
            and location.latitude_deg is not None
            and location.longitude_deg is not None
        ):
            point = LocatedPoint(
                location.latitude_deg,
                location.longitude_deg,
                point_radius_m(location.semi_major_m),
            )
        views.append(IncidentView(incident.id, incident.last_seen_at, cones, point))
    return views


def _open_incident(
    session: Session, alert: contracts.AlertMessage, cone: BearingCone | None, config: ClusterConfig
) -> tuple[Incident, bool]:
    """The incident a new event joins, created when no open incident fits."""
    chosen = choose_incident(
        cone, alert.captured_at, _candidate_views(session, alert.captured_at, config), config
    )
    if chosen is not None:
        return session.get_one(Incident, chosen), False
    incident = Incident(
        status=IncidentStatus.NEW,
        detection_class=alert.detection_class.value,
        first_seen_at=alert.captured_at,
        last_seen_at=alert.captured_at,
        max_score=alert.score,
        status_changed_at=utc_now(),
    )
    session.add(incident)
    session.flush()
    record_audit(
        session,
        "incident.created",
        incident_id=incident.id,
        details={"alert_id": str(alert.alert_id), "camera": f"{alert.site_id}/{alert.camera_id}"},
    )
    return incident, True


def _snapshots_of(
    session: Session, memo: IngestMemo, alert: contracts.AlertMessage
) -> list[AlertSnapshot]:
    """Links to the alert's pictures; each JPEG is stored once, by its hash."""
    unknown = [
        s.sha256
        for s in alert.snapshots
        if s.sha256 not in memo.snapshots and s.sha256 not in memo.absent_snapshots
    ]
    if unknown:
        memo.snapshots.update(
            (picture.sha256, picture)
            for picture in session.scalars(select(Snapshot).where(Snapshot.sha256.in_(unknown)))
        )
    links = []
    for snapshot in alert.snapshots:
        picture = memo.snapshots.get(snapshot.sha256)
        if picture is None:
            jpeg = snapshot.jpeg_bytes()
            picture = Snapshot(
                sha256=snapshot.sha256,
                content_type=snapshot.content_type,
                width_px=snapshot.width_px,
                height_px=snapshot.height_px,
                byte_size=len(jpeg),
                data=jpeg,
            )
            session.add(picture)
            memo.snapshots[snapshot.sha256] = picture
        links.append(
            AlertSnapshot(
                snapshot=picture,
                kind=snapshot.kind.value,
                width_px=snapshot.width_px,
                height_px=snapshot.height_px,
                crop_box=snapshot.crop_box.model_dump(mode="json") if snapshot.crop_box else None,
            )
        )
    return links


def _fold(incident: Incident, event: Event, alert: contracts.AlertMessage) -> None:
    """Widen the event's and the incident's time span and scores with this alert."""
    event.last_captured_at = max(event.last_captured_at, alert.captured_at)
    event.started_at = min(event.started_at, alert.captured_at)
    event.max_score = max(event.max_score, alert.score)
    event.alert_count += 1
    if alert.state is contracts.EventState.END:
        event.ended_at = alert.captured_at
    incident.first_seen_at = min(incident.first_seen_at, alert.captured_at)
    incident.last_seen_at = max(incident.last_seen_at, alert.captured_at)
    incident.max_score = max(incident.max_score, alert.score)
    if alert.detection_class is contracts.DetectionClass.FIRE:
        incident.detection_class = contracts.DetectionClass.FIRE.value


def ingest_alert(
    session: Session,
    alert: contracts.AlertMessage,
    locator: Locator,
    config: ClusterConfig = DEFAULT_CLUSTER_CONFIG,
    pending_locations: set[int] | None = None,
) -> IngestResult:
    """Store ``alert`` once (by ``alert_id``), attach it to an incident and re-locate that.

    Same ``event_id`` -> same incident. A new event joins an open incident whose bearings agree
    (``central.incidents.clustering``) or starts a new one. The incident is re-located at
    once, or, when ``pending_locations`` is given, its id is added there for the caller to
    locate with ``locate_incidents`` before committing (one fix per incident per batch).
    Does not commit; a caller that rolls back and reuses the session calls
    ``central.incidents.memo.forget_memo`` first.
    """
    memo = IngestMemo.of(session)
    with session.no_autoflush:
        return _ingest(session, memo, alert, locator, config, pending_locations)


def _ingest(
    session: Session,
    memo: IngestMemo,
    alert: contracts.AlertMessage,
    locator: Locator,
    config: ClusterConfig,
    pending_locations: set[int] | None,
) -> IngestResult:
    duplicate_of = incident_of_stored(session, memo, alert.alert_id)
    if duplicate_of != NOT_STORED:
        return IngestResult(IngestOutcome.DUPLICATE, alert.alert_id, duplicate_of)
    camera = camera_for(session, alert.site_id, alert.camera_id, seen_at=alert.captured_at)
    camera.latitude_deg = alert.camera.latitude_deg
    camera.longitude_deg = alert.camera.longitude_deg
    camera.lens_altitude_m = alert.camera.lens_altitude_m
    camera.last_alert_at = max(camera.last_alert_at or alert.captured_at, alert.captured_at)
    pose = pose_for(session, camera, alert.camera, alert.captured_at)
    box = main_box(alert)
    event = memo.events.get(alert.event_id) or session.get(Event, alert.event_id)
    created = False
    if event is None:
        cone = None
        if box is not None:
            cone = cone_from_box(camera.key, alert.camera, box, config.margin_deg)
        session.flush()  # the candidate incidents are read back with this batch's alerts
        incident, created = _open_incident(session, alert, cone, config)
        event = Event(
            id=alert.event_id,
            camera_pk=camera.id,
            pose_pk=pose.id,
            incident_id=incident.id,
            detection_class=alert.detection_class.value,
            started_at=alert.captured_at,
            last_captured_at=alert.captured_at,
            max_score=alert.score,
            alert_count=0,
        )
        session.add(event)
    else:
        incident = memo.incidents.get(event.incident_id) or session.get_one(
            Incident, event.incident_id
        )
    memo.events[alert.event_id] = event
    memo.incidents[incident.id] = incident
    _fold(incident, event, alert)
    session.add(
        Alert(
            alert_id=alert.alert_id,
            event_id=alert.event_id,
            sequence=alert.sequence,
            state=alert.state.value,
            camera_pk=camera.id,
            pose_pk=pose.id,
            captured_at=alert.captured_at,
            received_at=utc_now(),
            detection_class=alert.detection_class.value,
            score=alert.score,
            boxes=[b.model_dump(mode="json") for b in alert.boxes],
            geometry=alert.camera.model_dump(mode="json"),
            model_name=alert.model.name,
            model_version=alert.model.version,
            model_sha256=alert.model.sha256,
            snapshots=_snapshots_of(session, memo, alert),
        )
    )
    memo.alerts[alert.alert_id] = incident.id
    located = False
    if box is not None:
        if pending_locations is None:
            located = locate_incident(session, incident, locator)
        else:
            pending_locations.add(incident.id)
    return IngestResult(IngestOutcome.STORED, alert.alert_id, incident.id, created, located)
