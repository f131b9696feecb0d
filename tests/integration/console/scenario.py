"""Real alerts for the console tests: frames of the committed ignition clip, two real lookout
sites of the 06 aimed at chosen points, published over MQTT as an edge would.

The pictures come from a Californian lookout (HPWREN, the only smoke clip we ship) while the
geometry is that of cabanelle and courmettes: each box is placed where the clip's plume is, and
the camera heading is chosen so that the box's smoke base points at the target.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import cv2
import numpy as np
import paho.mqtt.client as mqtt
from pyproj import Geod

import contracts
from central.db import utc_now
from central.geo.camera_model import CameraModel
from central.geo.dem import Dem, load_dem_npz
from central.geo.geodata import DATA_DIRECTORY, DEM_FILE
from central.geo.raymarch import curvature_drop_m
from tests.support.services import SAMPLE_CLIP

GEOD = Geod(ellps="WGS84")
MODEL = contracts.ModelInfo(name="vigifeu-smoke", version="test", sha256="0" * 64)
WIDTH_PX, HEIGHT_PX = 640, 480
# Frames per second of the clip container: one source frame (one minute) per second of video.
CLIP_FPS = 5


@dataclass(frozen=True, slots=True)
class Site:
    site_id: str
    latitude_deg: float
    longitude_deg: float
    lens_altitude_m: float


# shared/geodata/poi/pyronear_camera_sites.geojson, lens 10 m above the ground.
CABANELLE = Site("cabanelle", 43.7866472, 7.419608279, 1090.0)
COURMETTES = Site("courmettes", 43.71559208, 7.026486331, 810.0)


@cache
def clip_minutes() -> list[np.ndarray]:
    """One frame per minute of the ignition (index = minutes since the clip starts, 5 before)."""
    capture = cv2.VideoCapture(str(SAMPLE_CLIP))
    frames = []
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % CLIP_FPS == 0:
            frames.append(frame)
        index += 1
    capture.release()
    return frames


def plume_box(minute: int) -> contracts.BoundingBox:
    """The clip's plume, measured by eye on the frames: small at minute 10, wide at minute 30."""
    t = min(max((minute - 10) / 20, 0.0), 1.0)
    return contracts.BoundingBox(
        x_min=0.688,
        y_min=0.52 - t * 0.115,
        x_max=0.774 + t * 0.10,
        y_max=0.575,
        score=round(0.55 + 0.35 * t, 3),
        detection_class=contracts.DetectionClass.SMOKE,
    )


@cache
def _dem() -> Dem:
    return load_dem_npz(DATA_DIRECTORY / DEM_FILE)


def _smoke_base_elevation_deg(site: Site, target: tuple[float, float]) -> float:
    """Elevation angle of the ground at ``target`` seen from the lens (curvature, refraction)."""
    _, _, distance_m = GEOD.inv(site.longitude_deg, site.latitude_deg, target[1], target[0])
    ground_m = float(_dem().elevation_m(target[1], target[0]))
    drop_m = ground_m - site.lens_altitude_m - curvature_drop_m(distance_m)
    return math.degrees(math.atan2(drop_m, distance_m))


def _geometry(
    site: Site, target: tuple[float, float], box: contracts.BoundingBox
) -> contracts.CameraGeometry:
    """Heading and tilt that put the smoke base of ``box`` on the target's ground, as a
    calibrated camera would see it (so that the DEM ray cast agrees with the triangulation)."""
    base_u, base_v = (box.x_min + box.x_max) / 2 * WIDTH_PX, box.y_max * HEIGHT_PX
    common = {
        "latitude_deg": site.latitude_deg,
        "longitude_deg": site.longitude_deg,
        "lens_altitude_m": site.lens_altitude_m,
        "hfov_deg": 87.0,
        "vfov_deg": 44.0,
        "image_width_px": WIDTH_PX,
        "image_height_px": HEIGHT_PX,
    }
    wanted_deg = _smoke_base_elevation_deg(site, target)
    tilt_deg = 0.0
    for _ in range(4):  # the pixel's elevation moves almost one for one with the tilt
        probe = contracts.CameraGeometry(azimuth_deg=0.0, tilt_deg=tilt_deg, **common)
        offset_deg, elevation_deg = CameraModel.from_geometry(probe).pixel_to_direction(
            base_u, base_v
        )
        tilt_deg += wanted_deg - float(elevation_deg)
    bearing, _, _ = GEOD.inv(site.longitude_deg, site.latitude_deg, target[1], target[0])
    return contracts.CameraGeometry(
        azimuth_deg=float(bearing - offset_deg) % 360.0, tilt_deg=tilt_deg, **common
    )


def _snapshot(minute: int) -> contracts.Snapshot:
    ok, encoded = cv2.imencode(".jpg", clip_minutes()[minute], [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return contracts.Snapshot.from_jpeg(
        encoded.tobytes(), contracts.SnapshotKind.FULL, WIDTH_PX, HEIGHT_PX
    )


def event_alerts(
    site: Site,
    target: tuple[float, float],
    minutes: Sequence[int] = (15, 20, 25),
    start: datetime | None = None,
    camera_id: str = "cam-1",
) -> list[contracts.AlertMessage]:
    """A start alert and updates of one event, one clip frame each, a minute apart."""
    event_id = uuid.uuid4()
    first = start or utc_now()
    alerts = []
    for sequence, minute in enumerate(minutes):
        box = plume_box(minute)
        alerts.append(
            contracts.AlertMessage(
                alert_id=uuid.uuid4(),
                event_id=event_id,
                sequence=sequence,
                state=contracts.EventState.START if sequence == 0 else contracts.EventState.UPDATE,
                site_id=site.site_id,
                camera_id=camera_id,
                captured_at=first + timedelta(minutes=minute - minutes[0]),
                detection_class=contracts.DetectionClass.SMOKE,
                score=box.score,
                boxes=(box,),
                camera=_geometry(site, target, box),
                model=MODEL,
                snapshots=(_snapshot(minute),),
            )
        )
    return alerts


def publish(
    port: int, messages: Sequence[contracts.AlertMessage | contracts.HeartbeatMessage]
) -> None:
    """Publish like an edge: QoS 1, each acknowledged by the broker before returning."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-edge-{uuid.uuid4().hex[:8]}"
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for message in messages:
            kind = (
                contracts.MessageKind.ALERT
                if isinstance(message, contracts.AlertMessage)
                else contracts.MessageKind.HEARTBEAT
            )
            info = client.publish(
                contracts.topic_for(message.site_id, message.camera_id, kind),
                contracts.encode_message(message),
                qos=1,
            )
            info.wait_for_publish(timeout=10)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def heartbeat(site: Site, camera_id: str, **health: object) -> contracts.HeartbeatMessage:
    values: dict[str, object] = {
        "frames_per_s": 1.0,
        "analysed_frames": 3600,
        "skipped_frames": 12,
        "corrupt_frames": 0,
        "last_frame_age_s": 0.8,
        "reconnects": 1,
        "blind_s": 42.0,
        "frozen": False,
        "inference_ms": 180.0,
        "outbox_depth": 0,
        "outbox_evicted": 0,
    }
    values.update(health)
    return contracts.HeartbeatMessage(
        site_id=site.site_id,
        camera_id=camera_id,
        sent_at=utc_now(),
        interval_s=30.0,
        health=contracts.CameraHealth.model_validate(values),
    )
