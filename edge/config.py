"""Camera-site configuration (``camera_configs/*.yaml``): declared, validated, loaded once.

Unknown keys are errors. Secrets (RTSP credentials) come from environment variables written
``${NAME}`` in the file; they are substituted at load time, kept as ``SecretStr`` and never logged.
Every error names the file, the camera and the field.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
NormalisedPoint = tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]]
_ENV_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names file, camera and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RtspSource(_Strict):
    kind: Literal["rtsp"]
    url: SecretStr = Field(description="rtsp://user:password@host/path; use ${ENV} for secrets")
    open_timeout_s: float = Field(default=5.0, gt=0, le=60)
    read_timeout_s: float = Field(default=5.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _is_rtsp(cls, value: SecretStr) -> SecretStr:
        scheme = urlsplit(value.get_secret_value()).scheme
        if scheme not in ("rtsp", "rtsps"):
            raise ValueError(f"url scheme must be rtsp or rtsps, not {scheme!r}")
        return value

    def redacted_url(self) -> str:
        """The URL with user and password replaced, safe for logs."""
        parts = urlsplit(self.url.get_secret_value())
        host = parts.hostname or ""
        netloc = f"***@{host}" if parts.username or parts.password else host
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class VideoFileSource(_Strict):
    """A recorded clip replayed as a camera (tests, benchmarks, demos)."""

    kind: Literal["video"]
    path: Path
    loop: bool = True


class ImageFolderSource(_Strict):
    """A folder of frames, in name order, replayed as a camera."""

    kind: Literal["images"]
    path: Path
    loop: bool = False


Source = Annotated[RtspSource | VideoFileSource | ImageFolderSource, Field(discriminator="kind")]


class Lens(_Strict):
    projection: Literal["rectilinear", "equidistant"] = "rectilinear"
    k1: float = 0.0
    k2: float = 0.0


class ExclusionMask(_Strict):
    """A polygon in normalised image coordinates (x right, y down) where detections are ignored."""

    name: str = ""
    polygon: list[NormalisedPoint] = Field(min_length=3)


class Pose(_Strict):
    """A PTZ preset the camera patrols; a fixed camera has none and uses the camera's pose."""

    id: Identifier
    preset: int | None = Field(default=None, ge=0, description="Camera-side preset number")
    heading_deg: float = Field(ge=0, lt=360)
    tilt_deg: float = Field(default=0.0, ge=-90, le=90)
    dwell_s: float = Field(
        default=30.0, gt=0, description="Time spent on the pose per patrol round"
    )
    settle_s: float = Field(default=3.0, ge=0, description="Wait after moving before capturing")
    masks: list[ExclusionMask] = Field(default_factory=list)


class Thresholds(_Strict):
    """Detection and confirmation thresholds (see edge/events for how they combine)."""

    detection_score: float = Field(default=0.15, gt=0, lt=1, description="Per-box floor")
    window_frames: int = Field(default=4, ge=1, le=30, description="Sliding window N")
    confirm_score: float = Field(
        default=0.6, gt=0, description="Summed score over the window needed to confirm"
    )
    end_after_s: float = Field(
        default=300.0, gt=0, description="No confirmation for this long ends"
    )
    update_interval_s: float = Field(default=60.0, gt=0, description="Minimum time between updates")
    max_box_width_fraction: float = Field(default=0.4, gt=0, le=1)

    @classmethod
    def at_operating_point(cls, score: float, window_frames: int = 4) -> Thresholds:
        """Thresholds that follow a model's registered operating score: a box counts from that
        score, and an event needs about half of the window at it (Pyronear's ceil(N/2) rule)."""
        return cls(
            detection_score=score,
            window_frames=window_frames,
            confirm_score=score * math.ceil(window_frames / 2),
        )


class Camera(_Strict):
    id: Identifier
    name: str = ""
    source: Source
    heading_deg: float = Field(ge=0, lt=360, description="Image centre azimuth, true north")
    tilt_deg: float = Field(default=0.0, ge=-90, le=90, description="Positive above horizon")
    roll_deg: float = Field(default=0.0, ge=-45, le=45)
    hfov_deg: float = Field(gt=0, lt=180)
    vfov_deg: float = Field(gt=0, lt=180)
    lens: Lens = Lens()
    cadence_s: float = Field(default=10.0, gt=0, le=3600, description="One analysed frame per")
    frozen_after_s: float = Field(default=60.0, gt=0, description="Unchanged frames this long")
    thresholds: Thresholds = Thresholds()
    masks: list[ExclusionMask] = Field(default_factory=list)
    poses: list[Pose] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_poses(self) -> Self:
        ids = [pose.id for pose in self.poses]
        if len(ids) != len(set(ids)):
            raise ValueError("pose ids must be unique within a camera")
        return self


class Site(_Strict):
    id: Identifier
    name: str = ""
    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    ground_altitude_m: float = Field(ge=-500, le=9000, description="Ground at the mast foot, AMSL")
    mast_height_m: float = Field(default=10.0, ge=0, le=200)

    @property
    def lens_altitude_m(self) -> float:
        return self.ground_altitude_m + self.mast_height_m


class Detector(_Strict):
    model: str = Field(default="default", description="Registry name, or 'default'")
    registry: Path = Path("models/registry.yaml")
    threads: int = Field(default=2, ge=1, le=64)
    tiles: Literal[1, 2] = Field(default=1, description="1: whole frame; 2: also 2x2 tiles")
    # The model also runs on the mirrored frame and the two views' boxes are averaged: smoke AP50
    # on hpwren val +4.4 points for the shipped model (+4 to +9 over the registry's four), for a
    # second model pass per frame (models/README.md). Off on a box whose cameras outrun its CPU.
    mirror: bool = Field(default=True, description="Also run the mirrored frame, average both")


class Outbox(_Strict):
    path: Path = Path("var/edge-outbox.sqlite3")
    max_alerts: int = Field(default=10_000, ge=10)


class EdgeConfig(_Strict):
    site: Site
    detector: Detector = Detector()
    outbox: Outbox = Outbox()
    heartbeat_interval_s: float = Field(default=30.0, gt=0, le=3600)
    cameras: list[Camera] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_cameras(self) -> Self:
        ids = [camera.id for camera in self.cameras]
        duplicates = sorted({camera_id for camera_id in ids if ids.count(camera_id) > 1})
        if duplicates:
            raise ValueError(f"camera ids must be unique, repeated: {', '.join(duplicates)}")
        return self


def _substitute_env(node: Any, environ: Mapping[str, str], where: str) -> Any:
    if isinstance(node, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise ConfigError(f"{where}: environment variable {name} is not set")
            return environ[name]

        return _ENV_REFERENCE.sub(replace, node)
    if isinstance(node, dict):
        return {
            key: _substitute_env(value, environ, f"{where}.{key}") for key, value in node.items()
        }
    if isinstance(node, list):
        return [_substitute_env(value, environ, f"{where}[{i}]") for i, value in enumerate(node)]
    return node


def _describe_location(raw: Any, location: tuple[int | str, ...]) -> str:
    """Turn ('cameras', 0, 'hfov_deg') into "camera 'north' field 'hfov_deg'"."""
    if len(location) >= 2 and location[0] == "cameras" and isinstance(location[1], int):
        cameras = raw.get("cameras") if isinstance(raw, dict) else None
        camera_id: Any = f"#{location[1]}"
        if isinstance(cameras, list) and location[1] < len(cameras):
            entry = cameras[location[1]]
            if isinstance(entry, dict) and "id" in entry:
                camera_id = entry["id"]
        field = ".".join(str(part) for part in location[2:]) or "<camera>"
        return f"camera {camera_id!r} field {field!r}"
    field = ".".join(str(part) for part in location) or "<root>"
    return f"field {field!r}"


def parse_config(raw: Any, source_name: str, environ: Mapping[str, str]) -> EdgeConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source_name}: expected a mapping at the top level")
    cameras = raw.get("cameras")
    substituted = dict(raw)
    if isinstance(cameras, list):
        substituted["cameras"] = [
            _substitute_env(
                camera,
                environ,
                f"{source_name}: camera {camera.get('id', f'#{i}')!r}"
                if isinstance(camera, dict)
                else source_name,
            )
            for i, camera in enumerate(cameras)
        ]
    try:
        return EdgeConfig.model_validate(substituted)
    except ValidationError as error:
        first = error.errors()[0]
        where = _describe_location(raw, tuple(first["loc"]))
        more = error.error_count() - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{source_name}: {where}: {first['msg']}{suffix}") from None


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> EdgeConfig:
    """Read and validate one site file. Relative source paths stay relative to the CWD."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    return parse_config(raw, str(path), os.environ if environ is None else environ)
