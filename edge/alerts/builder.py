"""Event transition + site/camera configuration -> wire ``AlertMessage`` (contract v1).

Decisions:

* ``alert_id`` is uuid5(event_id, sequence), not a fresh uuid4: building the same step twice
  (a retry after a crash between building and writing to the outbox, a replayed benchmark) yields
  the same id, so central's idempotent store keeps one copy.
* Snapshots (full frame + crop) ride on ``start`` and on every ``update``. Updates are rate-limited
  to one per ``update_interval_s`` (60 s by default), so an event costs at most 2 x 300 kB a minute
  (~80 kbit/s) on the uplink, and operators watch the plume grow; the outbox drops old updates
  first when the link is down. ``end`` carries none: nothing new to see.
* The pose overrides the camera's heading and tilt: a PTZ preset looks somewhere else.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from contracts import (
    AlertMessage,
    BoundingBox,
    CameraGeometry,
    DetectionClass,
    EventState,
    LensModel,
    ModelInfo,
    Snapshot,
)
from contracts.messages import MAX_BOXES_PER_ALERT
from edge.alerts.snapshot import crop_snapshot, full_snapshot
from edge.config import Camera, Pose, Site
from edge.events.confirmation import EventTransition
from edge.messages import Detection, Frame

# Fixed forever: changing it changes every alert id and breaks deduplication across versions.
ALERT_ID_NAMESPACE = UUID("6f1d2a4e-5c3b-4e8f-9a7d-2b1c0e9f8a61")


class AlertBuildError(ValueError):
    """The transition does not fit the configuration it is built with."""


def alert_id_for(event_id: UUID, sequence: int) -> UUID:
    return uuid5(ALERT_ID_NAMESPACE, f"{event_id}/{sequence}")


def camera_geometry(site: Site, camera: Camera, pose: Pose | None, frame: Frame) -> CameraGeometry:
    return CameraGeometry(
        latitude_deg=site.latitude_deg,
        longitude_deg=site.longitude_deg,
        lens_altitude_m=site.lens_altitude_m,
        pose_id=pose.id if pose else None,
        azimuth_deg=pose.heading_deg if pose else camera.heading_deg,
        tilt_deg=pose.tilt_deg if pose else camera.tilt_deg,
        roll_deg=camera.roll_deg,
        hfov_deg=camera.hfov_deg,
        vfov_deg=camera.vfov_deg,
        image_width_px=frame.width_px,
        image_height_px=frame.height_px,
        lens=LensModel(projection=camera.lens.projection, k1=camera.lens.k1, k2=camera.lens.k2),
    )


def bounding_box(detection: Detection) -> BoundingBox:
    return BoundingBox(
        x_min=detection.x_min,
        y_min=detection.y_min,
        x_max=detection.x_max,
        y_max=detection.y_max,
        score=min(1.0, max(0.0, detection.score)),
        detection_class=DetectionClass(detection.detection_class.value),
    )


def _check(transition: EventTransition, camera: Camera, pose: Pose | None) -> Frame:
    if transition.camera_id != camera.id:
        raise AlertBuildError(
            f"transition of camera {transition.camera_id!r} built with camera {camera.id!r}"
        )
    pose_id = pose.id if pose else None
    if transition.pose_id != pose_id:
        raise AlertBuildError(
            f"camera {camera.id!r}: transition of pose {transition.pose_id!r} "
            f"built with pose {pose_id!r}"
        )
    if transition.frame is None:
        raise AlertBuildError(
            f"camera {camera.id!r}: event {transition.event_id} step {transition.sequence} "
            "has no frame; the image size of the camera geometry comes from it"
        )
    return transition.frame


def build_alert(
    transition: EventTransition,
    *,
    site: Site,
    camera: Camera,
    pose: Pose | None,
    model: ModelInfo,
) -> AlertMessage:
    frame = _check(transition, camera, pose)
    detection_class = DetectionClass(transition.detection_class.value)
    score = min(1.0, max(0.0, transition.score))
    boxes = sorted(transition.boxes, key=lambda d: -d.score)[:MAX_BOXES_PER_ALERT]
    snapshots: tuple[Snapshot, ...] = ()
    if transition.state is not EventState.END and boxes:
        snapshots = (
            full_snapshot(frame.image),
            crop_snapshot(frame.image, boxes, score, detection_class),
        )
    return AlertMessage(
        alert_id=alert_id_for(transition.event_id, transition.sequence),
        event_id=transition.event_id,
        sequence=transition.sequence,
        state=transition.state,
        site_id=site.id,
        camera_id=camera.id,
        captured_at=transition.captured_at,
        detection_class=detection_class,
        score=score,
        boxes=tuple(bounding_box(d) for d in boxes),
        camera=camera_geometry(site, camera, pose, frame),
        model=model,
        snapshots=snapshots,
    )
