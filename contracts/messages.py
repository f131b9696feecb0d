"""Wire contract v1: the messages an edge worker publishes over MQTT.

Conventions, fixed once for both sides:

* Times are tz-aware UTC (``captured_at``); naive datetimes are rejected.
* Boxes are normalised to the full captured frame: ``0 <= x_min < x_max <= 1`` from the left edge,
  ``0 <= y_min < y_max <= 1`` from the top edge.
* Angles are degrees. ``azimuth_deg`` of the image centre is clockwise from true north in [0, 360);
  ``tilt_deg`` is positive above the horizon; ``roll_deg`` is positive clockwise as seen by the camera.
* Positions are WGS84 (EPSG:4326) latitude/longitude in degrees; heights are metres above mean sea level.
"""

from __future__ import annotations

import binascii
import hashlib
from enum import StrEnum
from typing import Annotated, Literal, Self
from uuid import UUID

import pybase64
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

SCHEMA_VERSION: Literal[1] = 1

# A snapshot travels inside its alert (base64 JPEG) so that one MQTT message is one atomic,
# idempotent unit: the edge outbox, the broker and central never see an alert without its picture.
# The cap keeps a start alert under ~0.5 MB on a 4G uplink; the edge downsizes and re-encodes to fit.
MAX_SNAPSHOT_BYTES = 300_000
MAX_BOXES_PER_ALERT = 20

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
UnitInterval = Annotated[float, Field(ge=0.0, le=1.0)]


class WireModel(BaseModel):
    """Base of every wire message: unknown keys are an error, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventState(StrEnum):
    """Lifecycle of one smoke or fire event seen by one camera pose."""

    START = "start"
    UPDATE = "update"
    END = "end"


class DetectionClass(StrEnum):
    SMOKE = "smoke"
    FIRE = "fire"


class CameraState(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"


class SnapshotKind(StrEnum):
    FULL = "full"
    CROP = "crop"


class BoundingBox(WireModel):
    """One detection box, normalised to the full frame (see module docstring)."""

    x_min: UnitInterval
    y_min: UnitInterval
    x_max: UnitInterval
    y_max: UnitInterval
    score: UnitInterval
    detection_class: DetectionClass

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not (self.x_min < self.x_max and self.y_min < self.y_max):
            raise ValueError("box must satisfy x_min < x_max and y_min < y_max")
        return self


class LensModel(WireModel):
    """Intrinsics of the lens, enough to turn a pixel into a viewing direction.

    ``projection`` names the mapping from the angle off-axis theta to the image radius r:
    rectilinear r = f tan(theta), equidistant r = f theta. ``k1``/``k2`` are Brown radial
    distortion coefficients applied to normalised image coordinates.
    """

    projection: Literal["rectilinear", "equidistant"] = "rectilinear"
    k1: float = 0.0
    k2: float = 0.0


class CameraGeometry(WireModel):
    """Where the camera is and where it looked when the frame was captured."""

    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    lens_altitude_m: float = Field(ge=-500, le=9000, description="Lens height above mean sea level")
    pose_id: Identifier | None = Field(
        default=None, description="PTZ preset; None for a fixed view"
    )
    azimuth_deg: float = Field(ge=0, lt=360, description="Image centre, clockwise from true north")
    tilt_deg: float = Field(ge=-90, le=90, description="Image centre, positive above the horizon")
    roll_deg: float = Field(default=0.0, ge=-45, le=45)
    hfov_deg: float = Field(gt=0, lt=180)
    vfov_deg: float = Field(gt=0, lt=180)
    image_width_px: int = Field(gt=0)
    image_height_px: int = Field(gt=0)
    lens: LensModel = LensModel()


class ModelInfo(WireModel):
    name: str = Field(min_length=1, max_length=128)
    version: str = Field(min_length=1, max_length=64)
    sha256: Sha256Hex


class Snapshot(WireModel):
    """A JPEG picture of the event. ``sha256`` is of the decoded JPEG bytes and names it centrally."""

    kind: SnapshotKind
    sha256: Sha256Hex
    width_px: int = Field(gt=0)
    height_px: int = Field(gt=0)
    content_type: Literal["image/jpeg"] = "image/jpeg"
    crop_box: BoundingBox | None = Field(
        default=None, description="For a crop: the region of the full frame it shows"
    )
    data_base64: str = Field(max_length=(MAX_SNAPSHOT_BYTES * 4) // 3 + 4)
    _jpeg: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _valid_base64_matching_its_hash(self) -> Self:
        # Snapshots are the bulk of every alert central ingests: decoded once, here, and kept
        # for ``jpeg_bytes``; pybase64 decodes a 45 kB frame ~8x faster than ``base64``.
        try:
            jpeg = pybase64.b64decode(self.data_base64, validate=True)
        except binascii.Error as error:
            raise ValueError(f"data_base64 is not valid base64: {error}") from error
        if hashlib.sha256(jpeg).hexdigest() != self.sha256:
            raise ValueError("sha256 does not match the snapshot bytes")
        self._jpeg = jpeg
        return self

    def jpeg_bytes(self) -> bytes:
        return self._jpeg

    @classmethod
    def from_jpeg(
        cls,
        jpeg: bytes,
        kind: SnapshotKind,
        width_px: int,
        height_px: int,
        crop_box: BoundingBox | None = None,
    ) -> Snapshot:
        return cls(
            kind=kind,
            sha256=hashlib.sha256(jpeg).hexdigest(),
            width_px=width_px,
            height_px=height_px,
            crop_box=crop_box,
            data_base64=pybase64.b64encode(jpeg).decode("ascii"),
        )


class AlertMessage(WireModel):
    """One step of a confirmed event: ``start``, zero or more ``update`` and one ``end``.

    ``alert_id`` is the idempotency key (MQTT QoS 1 is at-least-once: central stores each id once).
    ``event_id`` groups the steps of one event; ``sequence`` orders them (0 for the start).
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    alert_id: UUID
    event_id: UUID
    sequence: int = Field(ge=0)
    state: EventState
    site_id: Identifier
    camera_id: Identifier
    captured_at: AwareDatetime
    detection_class: DetectionClass
    score: UnitInterval = Field(description="Confirmation score of the event at this step")
    boxes: tuple[BoundingBox, ...] = Field(max_length=MAX_BOXES_PER_ALERT)
    camera: CameraGeometry
    model: ModelInfo
    snapshots: tuple[Snapshot, ...] = Field(default=(), max_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.state is EventState.START and self.sequence != 0:
            raise ValueError("a start alert has sequence 0")
        if self.state is not EventState.START and self.sequence == 0:
            raise ValueError("only a start alert has sequence 0")
        if self.state is not EventState.END and not self.boxes:
            raise ValueError("start and update alerts carry at least one box")
        return self


class CameraHealth(WireModel):
    """Health counters of one camera since the edge worker started (monotonic counters) or now."""

    frames_per_s: float = Field(ge=0, description="Frames read from the source, last interval")
    analysed_frames: int = Field(ge=0)
    skipped_frames: int = Field(ge=0, description="Frames read but replaced by a newer one")
    corrupt_frames: int = Field(ge=0)
    last_frame_age_s: float | None = Field(ge=0, description="None before the first frame")
    reconnects: int = Field(ge=0)
    blind_s: float = Field(ge=0, description="Seconds without a usable frame since start")
    frozen: bool
    inference_ms: float | None = Field(default=None, ge=0, description="Median, last interval")
    outbox_depth: int = Field(
        ge=0, description="Alerts written but not yet acknowledged (edge-wide)"
    )
    outbox_evicted: int = Field(ge=0)


class HeartbeatMessage(WireModel):
    schema_version: Literal[1] = SCHEMA_VERSION
    site_id: Identifier
    camera_id: Identifier
    sent_at: AwareDatetime
    interval_s: float = Field(gt=0, description="The next heartbeat is due after this many seconds")
    health: CameraHealth


class CameraStatusMessage(WireModel):
    """Retained availability of a camera, or of the whole edge box (``camera_id == "_edge"``).

    The edge-box status is also the MQTT last will: the broker publishes ``offline`` for it when
    the edge connection dies without a clean disconnect.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    site_id: Identifier
    camera_id: Annotated[str, Field(pattern=r"^(_edge|[a-z0-9][a-z0-9_-]{0,62})$")]
    state: CameraState
    reason: str = Field(default="", max_length=500)
    changed_at: AwareDatetime
