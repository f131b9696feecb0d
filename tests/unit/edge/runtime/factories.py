"""Small builders of wire alerts and frames for the runtime unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np

from contracts import (
    AlertMessage,
    BoundingBox,
    CameraGeometry,
    DetectionClass,
    EventState,
    ModelInfo,
)
from edge.messages import Frame

T0 = datetime(2025, 7, 28, 12, 0, tzinfo=UTC)
MODEL = ModelInfo(name="test", version="1", sha256="0" * 64)


def make_alert(
    camera_id: str = "cam-a",
    state: EventState = EventState.UPDATE,
    sequence: int | None = None,
    event_id: uuid.UUID | None = None,
) -> AlertMessage:
    if sequence is None:
        sequence = 0 if state is EventState.START else 1
    boxes: tuple[BoundingBox, ...] = ()
    if state is not EventState.END:
        boxes = (
            BoundingBox(
                x_min=0.1,
                y_min=0.2,
                x_max=0.3,
                y_max=0.4,
                score=0.8,
                detection_class=DetectionClass.SMOKE,
            ),
        )
    return AlertMessage(
        alert_id=uuid.uuid4(),
        event_id=event_id or uuid.uuid4(),
        sequence=sequence,
        state=state,
        site_id="site",
        camera_id=camera_id,
        captured_at=T0 + timedelta(seconds=sequence),
        detection_class=DetectionClass.SMOKE,
        score=0.8,
        boxes=boxes,
        camera=CameraGeometry(
            latitude_deg=43.7,
            longitude_deg=7.0,
            lens_altitude_m=850.0,
            azimuth_deg=60.0,
            tilt_deg=-1.5,
            hfov_deg=87.0,
            vfov_deg=44.0,
            image_width_px=640,
            image_height_px=480,
        ),
        model=MODEL,
    )


def make_frame(camera_id: str = "cam-a", sequence: int = 1, value: int = 60) -> Frame:
    return Frame(
        camera_id=camera_id,
        pose_id=None,
        sequence=sequence,
        captured_at=T0 + timedelta(seconds=sequence),
        image=np.full((48, 64, 3), value, np.uint8),
    )
