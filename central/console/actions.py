"""What an operator can do to an incident, each step written to the audit trail.

Acknowledging says "I have seen it"; confirming, dismissing and dispatching imply it. Every
action is idempotent from the operator's point of view: repeating one that already took effect
(a double click, two operators at once) changes nothing and says so. Status changes follow
``central.incidents.lifecycle``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from central.audit import record_audit
from central.db import Incident, Operator, utc_now
from central.dispatch.service import DispatchService
from central.errors import Conflict, NotFound
from central.incidents.lifecycle import IncidentStatus, InvalidTransition, transition


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    DISPATCH = "dispatch"
    CLOSE = "close"


class FalsePositive(StrEnum):
    """Why a detection was not a wildfire: hard-negative labels for training."""

    CLOUD = "cloud"
    FOG_HAZE = "fog_haze"
    DUST = "dust"
    SUN_GLARE = "sun_glare"
    CHIMNEY_SMOKE = "chimney_smoke"
    AGRICULTURAL_BURN = "agricultural_burn"
    OTHER = "other"


FALSE_POSITIVE_LABELS_FR = {
    FalsePositive.CLOUD: "Nuage",
    FalsePositive.FOG_HAZE: "Brouillard / brume",
    FalsePositive.DUST: "Poussière",
    FalsePositive.SUN_GLARE: "Reflet du soleil",
    FalsePositive.CHIMNEY_SMOKE: "Fumée de cheminée / industrielle",
    FalsePositive.AGRICULTURAL_BURN: "Brûlage agricole",
    FalsePositive.OTHER: "Autre",
}

STATUS_LABELS_FR = {
    IncidentStatus.NEW: "nouveau",
    IncidentStatus.CONFIRMED: "confirmé",
    IncidentStatus.DISMISSED: "écarté",
    IncidentStatus.DISPATCHED: "secours engagés",
    IncidentStatus.CLOSED: "clos",
}

_TARGETS = {
    Action.CONFIRM: IncidentStatus.CONFIRMED,
    Action.DISMISS: IncidentStatus.DISMISSED,
    Action.DISPATCH: IncidentStatus.DISPATCHED,
    Action.CLOSE: IncidentStatus.CLOSED,
}


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    changed: bool
    message: str  # French, for the operator
    queued_channels: tuple[str, ...] = ()


def _acknowledge(session: Session, incident: Incident, operator: Operator) -> bool:
    if incident.acknowledged_at is not None:
        return False
    incident.acknowledged_at = utc_now()
    incident.acknowledged_by = operator.id
    record_audit(session, "incident.acknowledged", incident_id=incident.id, operator=operator)
    return True


def _change_status(
    session: Session,
    incident: Incident,
    wanted: IncidentStatus,
    operator: Operator,
    false_positive: FalsePositive | None,
) -> None:
    try:
        incident.status = transition(incident.status, wanted)
    except InvalidTransition as error:
        label = STATUS_LABELS_FR[incident.status]
        raise Conflict(f"action impossible : l'incident est « {label} »") from error
    incident.status_changed_at = utc_now()
    incident.false_positive_type = false_positive.value if false_positive else None
    details = {"false_positive_type": false_positive.value} if false_positive else {}
    record_audit(
        session,
        f"incident.{wanted.value}",
        incident_id=incident.id,
        operator=operator,
        details=details,
    )


def apply_action(
    session: Session,
    incident_id: int,
    action: Action,
    operator: Operator,
    dispatcher: DispatchService | None,
    false_positive: FalsePositive | None = None,
) -> ActionOutcome:
    """Apply ``action`` in the caller's transaction. Raises NotFound or Conflict."""
    incident = session.get(Incident, incident_id, with_for_update=True)
    if incident is None:
        raise NotFound(f"incident {incident_id} inconnu")
    acknowledged = _acknowledge(session, incident, operator)
    if action is Action.ACKNOWLEDGE:
        return ActionOutcome(
            acknowledged, "Incident acquitté." if acknowledged else "Déjà acquitté."
        )
    wanted = _TARGETS[action]
    if action is Action.DISMISS and false_positive is None:
        raise Conflict("précisez le type de fausse alerte")
    if incident.status == wanted:
        return ActionOutcome(acknowledged, "Déjà fait : rien n'a changé.")
    _change_status(session, incident, wanted, operator, false_positive)
    if action is not Action.DISPATCH:
        return ActionOutcome(True, f"Incident {STATUS_LABELS_FR[wanted]}.")
    if dispatcher is None:
        return ActionOutcome(True, "Incident marqué « secours engagés » (aucun canal configuré).")
    queued = tuple(dispatcher.queue(session, incident, "dispatch", operator))
    channels = ", ".join(queued) or "aucun canal ne correspond"
    return ActionOutcome(True, f"Alerte envoyée : {channels}.", queued)
