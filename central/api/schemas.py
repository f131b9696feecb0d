"""Response models of the API. Built from ORM rows by the ``from_*`` functions; never rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from central.camera_health import CameraHealthView
from central.db import Alert, AlertSnapshot, Camera, Incident, Location, Pose
from central.incidents.lifecycle import IncidentStatus
from central.incidents.queries import IncidentSummary

API_PREFIX = "/api/v1"
ItemT = TypeVar("ItemT", bound=BaseModel)


class Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class Page(Public, Generic[ItemT]):
    items: list[ItemT]
    total: int
    limit: int
    offset: int


class BoxPublic(Public):
    """Normalised to the full frame: 0..1 from the left and top edges."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float
    score: float
    detection_class: str


class SnapshotRefPublic(Public):
    sha256: str
    kind: str
    width_px: int
    height_px: int
    crop_box: BoxPublic | None
    url: str


class AlertPublic(Public):
    alert_id: uuid.UUID
    event_id: uuid.UUID
    sequence: int
    state: str
    site_id: str
    camera_id: str
    captured_at: datetime
    received_at: datetime
    detection_class: str
    score: float
    boxes: list[BoxPublic]
    camera: dict[str, Any]  # contracts.CameraGeometry as sent
    model_name: str
    model_version: str
    snapshots: list[SnapshotRefPublic]


class StationPublic(Public):
    name: str
    distance_m: float  # geodesic, from the estimated position


class AttributionPublic(Public):
    dfci_code: str | None
    dfci_subsquare: str | None
    dfci_touched: list[str]
    commune: str | None
    commune_insee: str | None
    massif: str | None
    forest_type: str | None
    nearest_stations: list[StationPublic]  # nearest first
    in_department: bool


class LocationPublic(Public):
    """WGS84 degrees; 1-sigma ellipse in metres, major axis clockwise from true north."""

    method: str  # triangulation | terrain | bearing_only | none
    revision: int
    computed_at: datetime
    camera_count: int
    latitude_deg: float | None
    longitude_deg: float | None
    semi_major_m: float | None
    semi_minor_m: float | None
    orientation_deg: float | None
    degenerate: str | None
    attribution: AttributionPublic | None
    estimate: dict[str, Any]  # the locator's full output, bearings included


class IncidentPublic(Public):
    id: int
    status: IncidentStatus
    detection_class: str
    first_seen_at: datetime
    last_seen_at: datetime
    max_score: float
    created_at: datetime
    status_changed_at: datetime
    acknowledged_at: datetime | None
    false_positive_type: str | None
    merged_into_id: int | None  # closed because an operator merged it into this incident
    cameras: list[str]  # "<site_id>/<camera_id>"
    alert_count: int
    location: LocationPublic | None


class IncidentDetailPublic(IncidentPublic):
    alerts: list[AlertPublic]


class PosePublic(Public):
    pose_id: str | None
    azimuth_deg: float
    tilt_deg: float
    roll_deg: float
    hfov_deg: float
    vfov_deg: float
    image_width_px: int
    image_height_px: int
    lens: dict[str, Any]
    reported_at: datetime
    calibration: dict[str, Any] | None
    calibrated_at: datetime | None


class CameraPublic(Public):
    site_id: str
    camera_id: str
    key: str
    latitude_deg: float | None
    longitude_deg: float | None
    lens_altitude_m: float | None
    state: str | None
    state_reason: str | None
    state_changed_at: datetime | None
    edge_state: str | None
    online: bool
    last_heartbeat_at: datetime | None
    heartbeat_age_s: float | None
    last_frame_age_s: float | None
    blind_s: float | None
    frozen: bool | None
    outbox_depth: int | None
    last_alert_at: datetime | None
    health: dict[str, Any] | None  # the last contracts.CameraHealth
    poses: list[PosePublic]


class HealthPublic(Public):
    status: Literal["ok", "degraded"]
    database: bool
    mqtt_connected: bool  # connected and subscribed: alerts reach this instance
    instance_id: str
    schema_revision: str | None


class MetricsPublic(Public):
    counters: dict[str, int]  # this instance since start: received, ingested, duplicates, ...
    totals: dict[str, int]  # rows in the database (all instances)


def snapshot_url(sha256: str) -> str:
    return f"{API_PREFIX}/snapshots/{sha256}"


def from_alert(alert: Alert, site_id: str, camera_id: str) -> AlertPublic:
    return AlertPublic(
        alert_id=alert.alert_id,
        event_id=alert.event_id,
        sequence=alert.sequence,
        state=alert.state,
        site_id=site_id,
        camera_id=camera_id,
        captured_at=alert.captured_at,
        received_at=alert.received_at,
        detection_class=alert.detection_class,
        score=alert.score,
        boxes=[BoxPublic.model_validate(box) for box in alert.boxes],
        camera=alert.geometry,
        model_name=alert.model_name,
        model_version=alert.model_version,
        snapshots=[from_snapshot(link) for link in alert.snapshots],
    )


def from_snapshot(link: AlertSnapshot) -> SnapshotRefPublic:
    return SnapshotRefPublic(
        sha256=link.sha256,
        kind=link.kind,
        width_px=link.width_px,
        height_px=link.height_px,
        crop_box=BoxPublic.model_validate(link.crop_box) if link.crop_box else None,
        url=snapshot_url(link.sha256),
    )


def from_location(location: Location) -> LocationPublic:
    return LocationPublic(
        method=location.method,
        revision=location.revision,
        computed_at=location.computed_at,
        camera_count=location.camera_count,
        latitude_deg=location.latitude_deg,
        longitude_deg=location.longitude_deg,
        semi_major_m=location.semi_major_m,
        semi_minor_m=location.semi_minor_m,
        orientation_deg=location.orientation_deg,
        degenerate=location.degenerate,
        attribution=(
            AttributionPublic.model_validate(location.attribution) if location.attribution else None
        ),
        estimate=location.estimate,
    )


def _incident_fields(incident: Incident, summary: IncidentSummary) -> dict[str, Any]:
    return {
        "id": incident.id,
        "status": incident.status,
        "detection_class": incident.detection_class,
        "first_seen_at": incident.first_seen_at,
        "last_seen_at": incident.last_seen_at,
        "max_score": incident.max_score,
        "created_at": incident.created_at,
        "status_changed_at": incident.status_changed_at,
        "acknowledged_at": incident.acknowledged_at,
        "false_positive_type": incident.false_positive_type,
        "merged_into_id": incident.merged_into_id,
        "cameras": list(summary.camera_keys),
        "alert_count": summary.alert_count,
        "location": from_location(incident.location) if incident.location else None,
    }


def from_incident(summary: IncidentSummary) -> IncidentPublic:
    return IncidentPublic(**_incident_fields(summary.incident, summary))


def from_incident_detail(
    summary: IncidentSummary, alerts: list[AlertPublic]
) -> IncidentDetailPublic:
    return IncidentDetailPublic(**_incident_fields(summary.incident, summary), alerts=alerts)


def from_pose(pose: Pose) -> PosePublic:
    return PosePublic(
        pose_id=pose.pose_id or None,
        azimuth_deg=pose.azimuth_deg,
        tilt_deg=pose.tilt_deg,
        roll_deg=pose.roll_deg,
        hfov_deg=pose.hfov_deg,
        vfov_deg=pose.vfov_deg,
        image_width_px=pose.image_width_px,
        image_height_px=pose.image_height_px,
        lens=pose.lens,
        reported_at=pose.reported_at,
        calibration=pose.calibration,
        calibrated_at=pose.calibrated_at,
    )


def from_camera(camera: Camera, edge_state: str | None, health: CameraHealthView) -> CameraPublic:
    return CameraPublic(
        site_id=camera.site_id,
        camera_id=camera.camera_id,
        key=camera.key,
        latitude_deg=camera.latitude_deg,
        longitude_deg=camera.longitude_deg,
        lens_altitude_m=camera.lens_altitude_m,
        state=camera.state,
        state_reason=camera.state_reason,
        state_changed_at=camera.state_changed_at,
        edge_state=edge_state,
        online=health.online,
        last_heartbeat_at=health.last_heartbeat_at,
        heartbeat_age_s=health.heartbeat_age_s,
        last_frame_age_s=health.last_frame_age_s,
        blind_s=health.blind_s,
        frozen=health.frozen,
        outbox_depth=health.outbox_depth,
        last_alert_at=camera.last_alert_at,
        health=camera.health,
        poses=[from_pose(pose) for pose in camera.poses],
    )
