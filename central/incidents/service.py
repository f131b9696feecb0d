"""Store one alert and fold it into an incident: idempotent, located, in the caller's transaction.

``ingest_alert`` never commits: the ingest consumer commits a batch of messages and only then
acknowledges them to the broker.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import contracts
from central.audit import record_audit
from central.db import (
    Alert,
    AlertSnapshot,
    Camera,
    Event,
    Incident,
    Location,
    Snapshot,
    utc_now,
)
from central.db.registry import camera_for, pose_for
from central.geo.locate import LocationEstimate, Sighting
from central.incidents.clustering import (
    BearingCone,
    ClusterConfig,
    IncidentView,
    TriangulatedPoint,
    choose_incident,
    cone_from_box,
    point_radius_m,
)
from central.incidents.lifecycle import OPEN_STATUSES, IncidentStatus

logger = logging.getLogger(__name__)

DEFAULT_CLUSTER_CONFIG = ClusterConfig()


class Locator(Protocol):
    """``central.geo.Locator`` or a fake: sightings of one fire -> located estimate."""

    def locate(self, sightings: Sequence[Sighting]) -> LocationEstimate: ...


class IngestOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    alert_id: uuid.UUID
    incident_id: int | None  # None only for a duplicate whose first copy is elsewhere
    incident_created: bool = False
    relocated: bool = False


def main_box(alert: contracts.AlertMessage) -> contracts.BoundingBox | None:
    """The box a sighting is made of: the highest-scoring one (None for an ``end``)."""
    return max(alert.boxes, key=lambda box: box.score, default=None)


def _sighting_of(alert: Alert, camera_key: str) -> Sighting | None:
    boxes = [contracts.BoundingBox.model_validate(box) for box in alert.boxes]
    if not boxes:
        return None
    return Sighting(
        camera_key=camera_key,
        geometry=contracts.CameraGeometry.model_validate(alert.geometry),
        box=max(boxes, key=lambda box: box.score),
        captured_at=alert.captured_at,
    )


def latest_sightings(session: Session, incident_id: int) -> list[Sighting]:
    """The most recent boxed alert of each camera of the incident, as sightings (by camera key)."""
    latest = (
        select(Alert.camera_pk, func.max(Alert.captured_at).label("captured_at"))
        .join(Event, Alert.event_id == Event.id)
        .where(Event.incident_id == incident_id, Alert.state != contracts.EventState.END.value)
        .group_by(Alert.camera_pk)
        .subquery()
    )
    rows = session.execute(
        select(Alert, Camera.site_id, Camera.camera_id)
        .join(Event, Alert.event_id == Event.id)
        .join(Camera, Alert.camera_pk == Camera.id)
        .join(
            latest,
            (Alert.camera_pk == latest.c.camera_pk) & (Alert.captured_at == latest.c.captured_at),
        )
        .where(Event.incident_id == incident_id, Alert.state != contracts.EventState.END.value)
        .order_by(Camera.site_id, Camera.camera_id, Alert.id.desc())
    ).all()
    sightings: dict[str, Sighting] = {}
    for alert, site_id, camera_id in rows:
        key = f"{site_id}/{camera_id}"
        sighting = _sighting_of(alert, key)
        if sighting is not None and key not in sightings:
            sightings[key] = sighting
    return list(sightings.values())


def _candidate_views(
    session: Session, captured_at: datetime, config: ClusterConfig
) -> list[IncidentView]:
    incidents = session.scalars(
        select(Incident).where(
            Incident.status.in_(sorted(OPEN_STATUSES)),
            Incident.last_seen_at >= captured_at - timedelta(seconds=config.window_s),
        )
    ).all()
    views = []
    for incident in incidents:
        cones = tuple(
            cone_from_box(s.camera_key, s.geometry, s.box, config.margin_deg)
            for s in latest_sightings(session, incident.id)
        )
        location = incident.location
        point = None
        if (
            location is not None
            and location.method == "triangulation"
            and location.latitude_deg is not None
            and location.longitude_deg is not None
        ):
            point = TriangulatedPoint(
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


def _store_snapshots(session: Session, alert: contracts.AlertMessage, stored: Alert) -> None:
    for snapshot in alert.snapshots:
        picture = session.get(Snapshot, snapshot.sha256)
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
        session.add(
            AlertSnapshot(
                alert_pk=stored.id,
                snapshot=picture,
                kind=snapshot.kind.value,
                width_px=snapshot.width_px,
                height_px=snapshot.height_px,
                crop_box=snapshot.crop_box.model_dump(mode="json") if snapshot.crop_box else None,
            )
        )


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


def store_location(session: Session, incident: Incident, estimate: LocationEstimate) -> Location:
    """Write ``estimate`` as the incident's current location (one row, revised in place)."""
    document = estimate.to_json()
    attribution = estimate.attribution
    values = {
        "computed_at": utc_now(),
        "method": estimate.method,
        "camera_count": len(estimate.bearings),
        "latitude_deg": estimate.latitude_deg,
        "longitude_deg": estimate.longitude_deg,
        "semi_major_m": estimate.semi_major_m,
        "semi_minor_m": estimate.semi_minor_m,
        "orientation_deg": estimate.orientation_deg,
        "degenerate": estimate.degenerate,
        "dfci_code": attribution.dfci_code if attribution else None,
        "commune": attribution.commune if attribution else None,
        "commune_insee": attribution.commune_insee if attribution else None,
        "massif": attribution.massif if attribution else None,
        "attribution": document.get("attribution"),
        "estimate": document,
    }
    location = incident.location
    if location is None:
        location = Location(incident_id=incident.id, revision=1, **values)
        session.add(location)
        incident.location = location
    else:
        for name, value in values.items():
            setattr(location, name, value)
        location.revision += 1
    return location


def _relocate(session: Session, incident: Incident, locator: Locator) -> bool:
    sightings = latest_sightings(session, incident.id)
    try:
        estimate = locator.locate(sightings)
    except Exception:
        # A geolocation bug must not lose the alert: it is stored, the location stays as it was.
        logger.exception("locating incident %d failed; keeping its previous location", incident.id)
        return False
    store_location(session, incident, estimate)
    return True


def ingest_alert(
    session: Session,
    alert: contracts.AlertMessage,
    locator: Locator,
    config: ClusterConfig = DEFAULT_CLUSTER_CONFIG,
) -> IngestResult:
    """Store ``alert`` once (by ``alert_id``), attach it to an incident and re-locate that.

    Same ``event_id`` -> same incident. A new event joins an open incident whose bearings agree
    (``central.incidents.clustering``) or starts a new one. Does not commit.
    """
    existing = session.scalar(select(Alert).where(Alert.alert_id == alert.alert_id))
    if existing is not None:
        incident_id = session.scalar(select(Event.incident_id).where(Event.id == existing.event_id))
        return IngestResult(IngestOutcome.DUPLICATE, alert.alert_id, incident_id)
    camera = camera_for(session, alert.site_id, alert.camera_id, seen_at=alert.captured_at)
    camera.latitude_deg = alert.camera.latitude_deg
    camera.longitude_deg = alert.camera.longitude_deg
    camera.lens_altitude_m = alert.camera.lens_altitude_m
    camera.last_alert_at = max(camera.last_alert_at or alert.captured_at, alert.captured_at)
    pose = pose_for(session, camera, alert.camera, alert.captured_at)
    box = main_box(alert)
    event = session.get(Event, alert.event_id)
    created = False
    if event is None:
        cone = None
        if box is not None:
            cone = cone_from_box(camera.key, alert.camera, box, config.margin_deg)
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
        incident = session.get_one(Incident, event.incident_id)
    _fold(incident, event, alert)
    stored = Alert(
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
    )
    session.add(stored)
    session.flush()
    _store_snapshots(session, alert, stored)
    relocated = box is not None and _relocate(session, incident, locator)
    return IngestResult(IngestOutcome.STORED, alert.alert_id, incident.id, created, relocated)
