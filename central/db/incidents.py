"""What central made of the alerts: incidents, their location, and their dispatches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.db.alerts import Event
from central.db.base import Base, JsonDocument, utc_now
from central.incidents.lifecycle import IncidentStatus


class Incident(Base):
    """One fire (or false alarm) as seen by one or more cameras over one or more events.

    ``detection_class`` is ``fire`` as soon as any alert saw flames, else ``smoke``.
    """

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[IncidentStatus] = mapped_column(
        Enum(
            IncidentStatus,
            native_enum=False,
            create_constraint=False,
            length=16,
            values_callable=lambda statuses: [status.value for status in statuses],
        ),
        index=True,
    )
    detection_class: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
    max_score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    status_changed_at: Mapped[datetime] = mapped_column(default=utc_now)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    # Operator's verdict on a dismissed incident (cloud, fog_haze, dust, ...): training data.
    false_positive_type: Mapped[str | None] = mapped_column(String(32))
    # Set when an operator merged this incident into another (same fire): it is then closed and
    # its events belong to that one (``central.incidents.regroup``).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))

    events: Mapped[list[Event]] = relationship(order_by="Event.started_at")
    location: Mapped[Location | None] = relationship(back_populates="incident")


class Location(Base):
    """The current location estimate of an incident, recomputed as bearings arrive.

    WGS84 degrees; 1-sigma ellipse semi-axes in metres, major axis clockwise from true north.
    ``estimate`` is the locator's full output (``LocationEstimate.to_json()``); the attribution
    names are copied into columns so that incidents can be filtered by them. ``sightings`` is
    the rounded camera/box set it was computed from: the same set is not located again.
    """

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    computed_at: Mapped[datetime] = mapped_column(default=utc_now)
    method: Mapped[str] = mapped_column(String(16))
    camera_count: Mapped[int]
    latitude_deg: Mapped[float | None] = mapped_column(Float)
    longitude_deg: Mapped[float | None] = mapped_column(Float)
    semi_major_m: Mapped[float | None] = mapped_column(Float)
    semi_minor_m: Mapped[float | None] = mapped_column(Float)
    orientation_deg: Mapped[float | None] = mapped_column(Float)
    degenerate: Mapped[str | None] = mapped_column(String(64))
    dfci_code: Mapped[str | None] = mapped_column(String(8))
    commune: Mapped[str | None] = mapped_column(String(100), index=True)
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    massif: Mapped[str | None] = mapped_column(String(100), index=True)
    attribution: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    estimate: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    # What the estimate was computed from (central.incidents.locating.sighting_signature).
    sightings: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, default=list)

    incident: Mapped[Incident] = relationship(back_populates="location")


class Dispatch(Base):
    """One notification of an incident on one channel; unique per (incident, channel)."""

    __tablename__ = "dispatches"
    __table_args__ = (UniqueConstraint("incident_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
