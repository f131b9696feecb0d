"""Read an incident from the database into ``IncidentFacts`` (what a dispatch message says)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import contracts
from central.db import Alert, AlertSnapshot, Camera, Event, Incident
from central.dispatch.links import Links
from central.dispatch.message import CameraView, IncidentFacts
from central.geo.camera_model import CameraModel


def _main_box(alert: Alert) -> dict[str, Any] | None:
    return max(alert.boxes, key=lambda box: float(box["score"]), default=None)


def smoke_base_azimuth_deg(alert: Alert) -> float | None:
    """Azimuth of the bottom centre of the alert's best box, through the full camera model."""
    box = _main_box(alert)
    if box is None:
        return None
    geometry = contracts.CameraGeometry.model_validate(alert.geometry)
    model = CameraModel.from_geometry(geometry)
    u_px = (float(box["x_min"]) + float(box["x_max"])) / 2 * geometry.image_width_px
    v_px = float(box["y_max"]) * geometry.image_height_px
    azimuth, _ = model.pixel_to_direction(u_px, v_px)
    return float(azimuth)


def _latest_boxed_alert(event: Event) -> Alert | None:
    boxed = [alert for alert in event.alerts if alert.boxes]
    return boxed[-1] if boxed else None


def camera_views(session: Session, incident: Incident) -> tuple[CameraView, ...]:
    """The locator's bearings when there are any, else one bearing per event's camera."""
    estimate = incident.location.estimate if incident.location is not None else {}
    views = [
        CameraView(camera_key=str(item["camera_key"]), azimuth_deg=float(item["azimuth_deg"]))
        for item in (estimate or {}).get("bearings", [])
        if "camera_key" in item and "azimuth_deg" in item
    ]
    if views:
        return tuple(views)
    keys = {camera.id: camera.key for camera in session.scalars(select(Camera))}
    by_camera: dict[str, CameraView] = {}
    for event in incident.events:
        alert = _latest_boxed_alert(event)
        azimuth = smoke_base_azimuth_deg(alert) if alert is not None else None
        if azimuth is not None:
            key = keys.get(event.camera_pk, str(event.camera_pk))
            by_camera[key] = CameraView(key, azimuth)
    return tuple(by_camera.values())


def best_snapshot_sha256(session: Session, incident: Incident) -> str | None:
    """The full frame of the incident's highest-scoring alert that carried one."""
    row = session.execute(
        select(AlertSnapshot.sha256)
        .join(Alert, Alert.id == AlertSnapshot.alert_pk)
        .join(Event, Event.id == Alert.event_id)
        .where(Event.incident_id == incident.id, AlertSnapshot.kind == "full")
        .order_by(Alert.score.desc(), Alert.captured_at)
        .limit(1)
    ).first()
    return row[0] if row else None


def incident_facts(session: Session, incident: Incident, links: Links) -> IncidentFacts:
    location = incident.location
    snapshot = best_snapshot_sha256(session, incident)
    return IncidentFacts(
        incident_id=incident.id,
        status=str(incident.status),
        detection_class=incident.detection_class,
        first_seen_at=incident.first_seen_at,
        confidence=incident.max_score,
        latitude_deg=location.latitude_deg if location is not None else None,
        longitude_deg=location.longitude_deg if location is not None else None,
        uncertainty_m=location.semi_major_m if location is not None else None,
        method=location.method if location is not None else None,
        caveat=location.degenerate if location is not None else None,
        dfci_code=location.dfci_code if location is not None else None,
        commune=location.commune if location is not None else None,
        massif=location.massif if location is not None else None,
        cameras=camera_views(session, incident),
        snapshot_url=links.snapshot_url(snapshot) if snapshot else None,
        console_url=links.incident_url(incident.id),
    )
