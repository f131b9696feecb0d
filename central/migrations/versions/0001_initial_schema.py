"""Initial schema: sites, cameras, poses, events, alerts, snapshots, quarantine, incidents,
locations, dispatches, operators and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 13:23:50.125654
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from central.db.base import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column types as the models declare them (central.db.base), frozen here for this revision.
UTC_TIME = UTCDateTime()
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_login_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("username", name=op.f("uq_operators_username")),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    op.create_index(op.f("ix_quarantine_received_at"), "quarantine", ["received_at"])
    op.create_table(
        "sites",
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_seen_at", UTC_TIME, nullable=True),
        sa.Column("edge_state", sa.String(length=16), nullable=True),
        sa.Column("edge_state_reason", sa.String(length=500), nullable=True),
        sa.Column("edge_state_changed_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_sites")),
    )
    op.create_table(
        "snapshots",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_snapshots")),
    )
    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("camera_id", sa.String(length=63), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("latitude_deg", sa.Float(), nullable=True),
        sa.Column("longitude_deg", sa.Float(), nullable=True),
        sa.Column("lens_altitude_m", sa.Float(), nullable=True),
        sa.Column("last_alert_at", UTC_TIME, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("state_reason", sa.String(length=500), nullable=True),
        sa.Column("state_changed_at", UTC_TIME, nullable=True),
        sa.Column("last_heartbeat_at", UTC_TIME, nullable=True),
        sa.Column("heartbeat_interval_s", sa.Float(), nullable=True),
        sa.Column("health", JSON_DOCUMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.site_id"], name=op.f("fk_cameras_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
        sa.UniqueConstraint("site_id", "camera_id", name=op.f("uq_cameras_site_id_camera_id")),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "confirmed",
                "dismissed",
                "dispatched",
                "closed",
                name="incidentstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("detection_class", sa.String(length=16), nullable=False),
        sa.Column("first_seen_at", UTC_TIME, nullable=False),
        sa.Column("last_seen_at", UTC_TIME, nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("status_changed_at", UTC_TIME, nullable=False),
        sa.Column("acknowledged_at", UTC_TIME, nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("false_positive_type", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["operators.id"],
            name=op.f("fk_incidents_acknowledged_by_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_last_seen_at"), "incidents", ["last_seen_at"])
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_audit_log_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_audit_log_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_incident_id"), "audit_log", ["incident_id"])
    op.create_table(
        "dispatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", UTC_TIME, nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("details", JSON_DOCUMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["operators.id"],
            name=op.f("fk_dispatches_acknowledged_by_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_dispatches_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatches")),
        sa.UniqueConstraint(
            "incident_id", "channel", name=op.f("uq_dispatches_incident_id_channel")
        ),
    )
    op.create_index(op.f("ix_dispatches_incident_id"), "dispatches", ["incident_id"])
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTC_TIME, nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("camera_count", sa.Integer(), nullable=False),
        sa.Column("latitude_deg", sa.Float(), nullable=True),
        sa.Column("longitude_deg", sa.Float(), nullable=True),
        sa.Column("semi_major_m", sa.Float(), nullable=True),
        sa.Column("semi_minor_m", sa.Float(), nullable=True),
        sa.Column("orientation_deg", sa.Float(), nullable=True),
        sa.Column("degenerate", sa.String(length=64), nullable=True),
        sa.Column("dfci_code", sa.String(length=8), nullable=True),
        sa.Column("commune", sa.String(length=100), nullable=True),
        sa.Column("commune_insee", sa.String(length=5), nullable=True),
        sa.Column("massif", sa.String(length=100), nullable=True),
        sa.Column("attribution", JSON_DOCUMENT, nullable=True),
        sa.Column("estimate", JSON_DOCUMENT, nullable=False),
        sa.Column("sightings", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_locations_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_locations_incident_id")),
    )
    op.create_index(op.f("ix_locations_commune"), "locations", ["commune"])
    op.create_index(op.f("ix_locations_massif"), "locations", ["massif"])
    op.create_table(
        "poses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_pk", sa.Integer(), nullable=False),
        sa.Column("pose_id", sa.String(length=63), nullable=False),
        sa.Column("azimuth_deg", sa.Float(), nullable=False),
        sa.Column("tilt_deg", sa.Float(), nullable=False),
        sa.Column("roll_deg", sa.Float(), nullable=False),
        sa.Column("hfov_deg", sa.Float(), nullable=False),
        sa.Column("vfov_deg", sa.Float(), nullable=False),
        sa.Column("image_width_px", sa.Integer(), nullable=False),
        sa.Column("image_height_px", sa.Integer(), nullable=False),
        sa.Column("lens", JSON_DOCUMENT, nullable=False),
        sa.Column("reported_at", UTC_TIME, nullable=False),
        sa.Column("calibration", JSON_DOCUMENT, nullable=True),
        sa.Column("calibrated_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_pk"], ["cameras.id"], name=op.f("fk_poses_camera_pk_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poses")),
        sa.UniqueConstraint("camera_pk", "pose_id", name=op.f("uq_poses_camera_pk_pose_id")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("camera_pk", sa.Integer(), nullable=False),
        sa.Column("pose_pk", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("detection_class", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("last_captured_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_pk"], ["cameras.id"], name=op.f("fk_events_camera_pk_cameras")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_events_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(["pose_pk"], ["poses.id"], name=op.f("fk_events_pose_pk_poses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_camera_pk"), "events", ["camera_pk"])
    op.create_index(op.f("ix_events_incident_id"), "events", ["incident_id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("camera_pk", sa.Integer(), nullable=False),
        sa.Column("pose_pk", sa.Integer(), nullable=True),
        sa.Column("captured_at", UTC_TIME, nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("detection_class", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("boxes", JSON_DOCUMENT, nullable=False),
        sa.Column("geometry", JSON_DOCUMENT, nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_pk"], ["cameras.id"], name=op.f("fk_alerts_camera_pk_cameras")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_alerts_event_id_events")
        ),
        sa.ForeignKeyConstraint(["pose_pk"], ["poses.id"], name=op.f("fk_alerts_pose_pk_poses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_alerts_alert_id")),
    )
    op.create_index(op.f("ix_alerts_captured_at"), "alerts", ["captured_at"])
    op.create_index(op.f("ix_alerts_event_id"), "alerts", ["event_id"])
    op.create_table(
        "alert_snapshots",
        sa.Column("alert_pk", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("crop_box", JSON_DOCUMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_pk"], ["alerts.id"], name=op.f("fk_alert_snapshots_alert_pk_alerts")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["snapshots.sha256"], name=op.f("fk_alert_snapshots_sha256_snapshots")
        ),
        sa.PrimaryKeyConstraint("alert_pk", "sha256", name=op.f("pk_alert_snapshots")),
    )


def downgrade() -> None:
    # Dependents first; indexes and constraints go with their tables.
    for table in (
        "alert_snapshots",
        "alerts",
        "events",
        "poses",
        "locations",
        "dispatches",
        "audit_log",
        "incidents",
        "cameras",
        "snapshots",
        "sites",
        "quarantine",
        "operators",
    ):
        op.drop_table(table)
