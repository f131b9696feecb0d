"""The audit trail: one call to record who did what to which incident, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from central.db import AuditEntry, Operator, utc_now

SYSTEM_ACTOR = "system"


def record_audit(
    session: Session,
    action: str,
    *,
    incident_id: int | None = None,
    operator: Operator | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry (``incident.created``, ``incident.confirmed``, ``dispatch.sent``, ...).

    The entry commits or rolls back with the change it describes; ``operator`` None means
    central itself did it.
    """
    entry = AuditEntry(
        at=utc_now(),
        action=action,
        actor=operator.username if operator is not None else SYSTEM_ACTOR,
        operator_id=operator.id if operator is not None else None,
        incident_id=incident_id,
        details=details or {},
    )
    session.add(entry)
    return entry
