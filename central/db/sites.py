"""Where the cameras are: sites (edge boxes), cameras and their poses (PTZ presets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.db.base import Base, JsonDocument, utc_now

# A fixed camera has one pose, stored under this id (wire ``pose_id`` None). It cannot clash
# with a PTZ preset: contract identifiers are never empty.
FIXED_POSE_ID = ""


class Site(Base):
    """One edge box. Its ``edge_*`` columns mirror the retained ``_edge`` status (last will)."""

    __tablename__ = "sites"

    site_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime | None]
    edge_state: Mapped[str | None] = mapped_column(String(16))
    edge_state_reason: Mapped[str | None] = mapped_column(String(500))
    edge_state_changed_at: Mapped[datetime | None]

    cameras: Mapped[list[Camera]] = relationship(back_populates="site")


class Camera(Base):
    """A camera of a site, with the latest position and health it reported."""

    __tablename__ = "cameras"
    __table_args__ = (UniqueConstraint("site_id", "camera_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    camera_id: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # WGS84 degrees and metres above mean sea level, from the latest alert.
    latitude_deg: Mapped[float | None] = mapped_column(Float)
    longitude_deg: Mapped[float | None] = mapped_column(Float)
    lens_altitude_m: Mapped[float | None] = mapped_column(Float)
    last_alert_at: Mapped[datetime | None]
    # From the retained status topic (contracts.CameraState values).
    state: Mapped[str | None] = mapped_column(String(16))
    state_reason: Mapped[str | None] = mapped_column(String(500))
    state_changed_at: Mapped[datetime | None]
    # From heartbeats: ``health`` is the last contracts.CameraHealth as JSON.
    last_heartbeat_at: Mapped[datetime | None]
    heartbeat_interval_s: Mapped[float | None] = mapped_column(Float)
    health: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)

    site: Mapped[Site] = relationship(back_populates="cameras")
    poses: Mapped[list[Pose]] = relationship(back_populates="camera", order_by="Pose.pose_id")

    @property
    def key(self) -> str:
        """``<site_id>/<camera_id>``, the camera's name in geolocation and logs."""
        return f"{self.site_id}/{self.camera_id}"


class Pose(Base):
    """Where a camera looks for one PTZ preset (or its only view), as last reported or calibrated.

    Angles in degrees (contract conventions). ``calibration`` is written by ``vigifeu calibrate``:
    the fitted heading/tilt/roll and their residuals; None until calibrated.
    """

    __tablename__ = "poses"
    __table_args__ = (UniqueConstraint("camera_pk", "pose_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_pk: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    pose_id: Mapped[str] = mapped_column(String(63))
    azimuth_deg: Mapped[float] = mapped_column(Float)
    tilt_deg: Mapped[float] = mapped_column(Float)
    roll_deg: Mapped[float] = mapped_column(Float)
    hfov_deg: Mapped[float] = mapped_column(Float)
    vfov_deg: Mapped[float] = mapped_column(Float)
    image_width_px: Mapped[int]
    image_height_px: Mapped[int]
    lens: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    reported_at: Mapped[datetime]
    calibration: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    calibrated_at: Mapped[datetime | None]

    camera: Mapped[Camera] = relationship(back_populates="poses")
