"""Storage: SQLAlchemy 2 models on SQLite (WAL) or PostgreSQL, migrated by Alembic."""

from central.db.alerts import Alert, AlertSnapshot, Event, QuarantinedMessage, Snapshot
from central.db.base import Base, make_engine, make_session_factory, utc_now
from central.db.incidents import Dispatch, Incident, Location
from central.db.operators import AuditEntry, Operator
from central.db.sites import FIXED_POSE_ID, Camera, Pose, Site

__all__ = [
    "FIXED_POSE_ID",
    "Alert",
    "AlertSnapshot",
    "AuditEntry",
    "Base",
    "Camera",
    "Dispatch",
    "Event",
    "Incident",
    "Location",
    "Operator",
    "Pose",
    "QuarantinedMessage",
    "Site",
    "Snapshot",
    "make_engine",
    "make_session_factory",
    "utc_now",
]
