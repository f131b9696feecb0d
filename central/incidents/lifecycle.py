"""The incident lifecycle: which status changes an operator (or dispatch) may make.

    new -> confirmed -> dispatched -> closed
    new -> dismissed            (false positive; kept for the training feedback loop)
    new / confirmed / dispatched -> closed
    dismissed -> confirmed      (an operator changes their mind: it was smoke after all)

Pure: ``transition`` takes the current and wanted status and returns the new one or raises.
"""

from __future__ import annotations

from enum import StrEnum

from central.errors import Conflict


class IncidentStatus(StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    DISPATCHED = "dispatched"
    CLOSED = "closed"


# Allowed targets from each status. Dispatching an unconfirmed incident is allowed: an operator
# who sends crews has confirmed it by doing so.
ALLOWED_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.NEW: frozenset(
        {
            IncidentStatus.CONFIRMED,
            IncidentStatus.DISMISSED,
            IncidentStatus.DISPATCHED,
            IncidentStatus.CLOSED,
        }
    ),
    IncidentStatus.CONFIRMED: frozenset({IncidentStatus.DISPATCHED, IncidentStatus.CLOSED}),
    IncidentStatus.DISMISSED: frozenset({IncidentStatus.CONFIRMED}),
    IncidentStatus.DISPATCHED: frozenset({IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}

# Incidents that new alerts may still join (a dismissed one only through its own events).
OPEN_STATUSES = frozenset({IncidentStatus.NEW, IncidentStatus.CONFIRMED, IncidentStatus.DISPATCHED})


class InvalidTransition(Conflict):
    """A status change the lifecycle does not allow; the message names both statuses."""

    def __init__(self, current: IncidentStatus, wanted: IncidentStatus) -> None:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current])) or "none"
        super().__init__(f"cannot go from {current} to {wanted} (allowed: {allowed})")
        self.current = current
        self.wanted = wanted


def transition(current: IncidentStatus, wanted: IncidentStatus) -> IncidentStatus:
    """Return ``wanted`` if the lifecycle allows ``current -> wanted``, else raise."""
    if wanted not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransition(current, wanted)
    return wanted
