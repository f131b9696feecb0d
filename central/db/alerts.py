"""What the edge sent: events, their alerts, the pictures, and the messages we refused."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.db.base import Base, JsonDocument, utc_now


class Event(Base):
    """One smoke or fire event seen by one camera pose: the alerts sharing an ``event_id``."""

    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    camera_pk: Mapped[int] = mapped_column(ForeignKey("cameras.id"), index=True)
    pose_pk: Mapped[int | None] = mapped_column(ForeignKey("poses.id"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    detection_class: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    last_captured_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    max_score: Mapped[float] = mapped_column(Float)
    alert_count: Mapped[int] = mapped_column(Integer, default=0)

    alerts: Mapped[list[Alert]] = relationship(back_populates="event", order_by="Alert.sequence")


class Alert(Base):
    """One stored alert message; ``alert_id`` (the wire idempotency key) is unique.

    ``boxes`` is the list of contract boxes (normalised to the frame); ``geometry`` the camera
    geometry exactly as sent (contracts.CameraGeometry as JSON).
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    sequence: Mapped[int]
    state: Mapped[str] = mapped_column(String(8))
    camera_pk: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    pose_pk: Mapped[int | None] = mapped_column(ForeignKey("poses.id"))
    captured_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    detection_class: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    boxes: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)
    geometry: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(64))
    model_sha256: Mapped[str] = mapped_column(String(64))

    event: Mapped[Event] = relationship(back_populates="alerts")
    snapshots: Mapped[list[AlertSnapshot]] = relationship(order_by="AlertSnapshot.kind")


class Snapshot(Base):
    """A JPEG, content-addressed by the sha256 of its bytes (stored once however often sent)."""

    __tablename__ = "snapshots"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    width_px: Mapped[int]
    height_px: Mapped[int]
    byte_size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AlertSnapshot(Base):
    """Which snapshots an alert carried, and for a crop the frame region it shows."""

    __tablename__ = "alert_snapshots"

    alert_pk: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("snapshots.sha256"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    width_px: Mapped[int]
    height_px: Mapped[int]
    crop_box: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)

    snapshot: Mapped[Snapshot] = relationship()


class QuarantinedMessage(Base):
    """A received message that broke the contract (or our processing), kept for diagnosis.

    ``payload`` is truncated to the configured size; ``payload_size`` is the original length.
    """

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    instance_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int]
