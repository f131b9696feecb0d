from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import cv2
import numpy as np
import pytest

from contracts import (
    AlertMessage,
    CameraGeometry,
    EventState,
    MessageKind,
    ModelInfo,
    SnapshotKind,
    decode_message,
    encode_message,
    topic_for,
)
from contracts.messages import MAX_BOXES_PER_ALERT, MAX_SNAPSHOT_BYTES
from edge.alerts.builder import AlertBuildError, alert_id_for, build_alert
from edge.config import Camera, Lens, Pose, Site, VideoFileSource
from edge.events.confirmation import EventTransition
from edge.messages import Detection, DetectionClass, Frame

SAMPLE_CLIP = Path(__file__).parents[4] / "datasets/samples/figlib_rm-w-mobo-c_20180728.mp4"
T0 = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
EVENT = UUID("12345678-1234-5678-1234-567812345678")
MODEL = ModelInfo(name="smoke-fire", version="1.0.0", sha256="ab" * 32)
SITE = Site(
    id="cabanelle",
    latitude_deg=43.7866,
    longitude_deg=7.4196,
    ground_altitude_m=1068,
    mast_height_m=12,
)
CAMERA = Camera(
    id="cam-250",
    source=VideoFileSource(kind="video", path=Path("clip.mp4")),
    heading_deg=250,
    tilt_deg=-1.5,
    roll_deg=0.5,
    hfov_deg=87,
    vfov_deg=44,
    lens=Lens(k1=-0.3, k2=0.08),
    poses=[Pose(id="south", heading_deg=180, tilt_deg=-3)],
)
PLUME = Detection(0.40, 0.30, 0.46, 0.38, 0.82, DetectionClass.SMOKE)


def sample_image() -> np.ndarray:
    capture = cv2.VideoCapture(str(SAMPLE_CLIP))
    ok, image = capture.read()
    capture.release()
    assert ok, SAMPLE_CLIP
    return image


def transition(
    state: EventState = EventState.START,
    sequence: int = 0,
    image: np.ndarray | None = None,
    pose_id: str | None = None,
    boxes: tuple[Detection, ...] = (PLUME,),
) -> EventTransition:
    frame = Frame("cam-250", pose_id, 7, T0, sample_image() if image is None else image)
    return EventTransition(
        state=state,
        event_id=EVENT,
        sequence=sequence,
        camera_id="cam-250",
        pose_id=pose_id,
        captured_at=T0,
        detection_class=DetectionClass.SMOKE,
        score=0.61,
        boxes=boxes,
        frame=frame,
    )


def round_trip(alert: AlertMessage) -> AlertMessage:
    topic = topic_for(alert.site_id, alert.camera_id, MessageKind.ALERT)
    _, decoded = decode_message(topic, encode_message(alert))
    assert isinstance(decoded, AlertMessage)
    return decoded


def test_start_alert_follows_the_contract_with_two_snapshots() -> None:
    alert = build_alert(transition(), site=SITE, camera=CAMERA, pose=None, model=MODEL)
    assert round_trip(alert) == alert
    assert (alert.state, alert.sequence, alert.event_id) == (EventState.START, 0, EVENT)
    assert alert.alert_id == alert_id_for(EVENT, 0)
    assert alert.model == MODEL
    assert alert.score == pytest.approx(0.61)
    [box] = alert.boxes
    assert (box.x_min, box.y_min, box.x_max, box.y_max, box.score) == pytest.approx(
        (0.40, 0.30, 0.46, 0.38, 0.82)
    )
    assert alert.camera == CameraGeometry(
        latitude_deg=43.7866,
        longitude_deg=7.4196,
        lens_altitude_m=1080,
        pose_id=None,
        azimuth_deg=250,
        tilt_deg=-1.5,
        roll_deg=0.5,
        hfov_deg=87,
        vfov_deg=44,
        image_width_px=640,
        image_height_px=480,
        lens={"projection": "rectilinear", "k1": -0.3, "k2": 0.08},
    )
    full, crop = alert.snapshots
    assert full.kind is SnapshotKind.FULL
    assert (full.width_px, full.height_px) == (640, 480)  # small frames are not upscaled
    decoded = cv2.imdecode(np.frombuffer(crop.jpeg_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape[:2] == (crop.height_px, crop.width_px)
    assert crop.crop_box is not None
    assert crop.crop_box.x_min <= box.x_min < box.x_max <= crop.crop_box.x_max
    assert crop.crop_box.y_min <= box.y_min < box.y_max <= crop.crop_box.y_max


def test_alert_ids_are_deterministic_per_step() -> None:
    first = build_alert(transition(), site=SITE, camera=CAMERA, pose=None, model=MODEL)
    again = build_alert(transition(), site=SITE, camera=CAMERA, pose=None, model=MODEL)
    update = build_alert(
        transition(EventState.UPDATE, 1), site=SITE, camera=CAMERA, pose=None, model=MODEL
    )
    assert first.alert_id == again.alert_id
    assert update.alert_id != first.alert_id
    assert len(update.snapshots) == 2


def test_end_carries_no_snapshot_and_may_have_no_box() -> None:
    end = transition(EventState.END, 3, boxes=())
    alert = build_alert(end, site=SITE, camera=CAMERA, pose=None, model=MODEL)
    assert round_trip(alert).snapshots == ()
    assert alert.boxes == ()


def test_pose_overrides_heading_and_tilt() -> None:
    pose = CAMERA.poses[0]
    alert = build_alert(
        transition(pose_id="south"), site=SITE, camera=CAMERA, pose=pose, model=MODEL
    )
    assert (alert.camera.pose_id, alert.camera.azimuth_deg, alert.camera.tilt_deg) == (
        "south",
        180,
        -3,
    )


def test_large_noisy_frames_are_shrunk_to_fit_the_cap() -> None:
    # Noise is the worst case for JPEG: a 4K noise frame at quality 85 is ~6 MB.
    noise = np.random.default_rng(0).integers(0, 256, (2160, 3840, 3), np.uint8)
    wide_plume = Detection(0.1, 0.1, 0.5, 0.7, 0.9, DetectionClass.SMOKE)
    alert = build_alert(
        transition(image=noise, boxes=(wide_plume,)),
        site=SITE,
        camera=CAMERA,
        pose=None,
        model=MODEL,
    )
    for snapshot in alert.snapshots:
        assert len(snapshot.jpeg_bytes()) <= MAX_SNAPSHOT_BYTES
        assert snapshot.width_px <= 1280
    assert round_trip(alert) == alert


def test_at_most_the_strongest_boxes_travel() -> None:
    boxes = tuple(
        Detection(0.01 * i, 0.5, 0.01 * i + 0.005, 0.51, 0.3 + 0.01 * i, DetectionClass.SMOKE)
        for i in range(30)
    )
    alert = build_alert(transition(boxes=boxes), site=SITE, camera=CAMERA, pose=None, model=MODEL)
    assert len(alert.boxes) == MAX_BOXES_PER_ALERT
    assert min(box.score for box in alert.boxes) == pytest.approx(0.3 + 0.01 * 10)


@pytest.mark.parametrize(
    ("step", "pose", "message"),
    [
        (replace(transition(), camera_id="cam-330"), None, "camera 'cam-330'"),
        (transition(pose_id="south"), None, "pose 'south'"),
        (replace(transition(), frame=None), None, "has no frame"),
    ],
)
def test_mismatched_inputs_are_refused(
    step: EventTransition, pose: Pose | None, message: str
) -> None:
    with pytest.raises(AlertBuildError, match=message):
        build_alert(step, site=SITE, camera=CAMERA, pose=pose, model=MODEL)
