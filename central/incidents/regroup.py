"""An operator corrects the clustering: merge two incidents of one fire, split an event out.

Clustering decides from the first box of each event (``central.incidents.clustering``), so two
fires that start at once in the same direction from one lookout can share an incident, and one
fire seen again after a long gap can get two. Only a person looking at the pictures can tell;
these functions apply their decision in the caller's transaction:

- ``merge_incidents``: every event of the source moves to the target, which is re-located from
  all its cameras; the source is closed with ``merged_into_id`` set, so links to it still lead
  somewhere. The target takes the further-along status of the two (crews sent to one are sent
  to the fire) and the acknowledgement of either.
- ``split_event``: one event leaves its incident for a new incident (status ``new``: the new
  smoke needs its own review); both are re-located from what each now holds.

Later alerts follow their event, so they land where the operator put it. An ingest batch that
commits at the same moment may still fold its alerts into the incident it read before the change
(the event moves all the same; the next alert puts the time span right). Each step is in the
audit trail of both incidents. Messages are in French, for the console.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

import contracts
from central.audit import record_audit
from central.db import Alert, Camera, Event, Incident, Operator, utc_now
from central.errors import Conflict, NotFound
from central.incidents.lifecycle import OPEN_STATUSES, IncidentStatus, transition
from central.incidents.locating import Locator, latest_sightings_of, locate_incidents

# How far along the lifecycle an open incident is: a merge keeps the further of the two.
_PROGRESS = {IncidentStatus.NEW: 0, IncidentStatus.CONFIRMED: 1, IncidentStatus.DISPATCHED: 2}


@dataclass(frozen=True, slots=True)
class Regrouped:
    """Which incidents changed (for the live pages) and what to tell the operator."""

    changed_ids: tuple[int, ...]
    message: str


def _locked(session: Session, incident_ids: Sequence[int]) -> dict[int, Incident]:
    """The incidents, locked for update in id order (two operators cannot deadlock)."""
    found = {}
    for incident_id in sorted(incident_ids):
        incident = session.get(Incident, incident_id, with_for_update=True)
        if incident is None:
            raise NotFound(f"incident {incident_id} inconnu")
        found[incident_id] = incident
    return found


def _require_open(incident: Incident) -> None:
    if incident.status not in OPEN_STATUSES:
        raise Conflict(f"action impossible : l'incident n° {incident.id} n'est plus ouvert")


def refold(session: Session, incident: Incident) -> None:
    """Recompute the incident's time span, score and class from the events it now holds."""
    events = session.scalars(select(Event).where(Event.incident_id == incident.id)).all()
    if not events:
        return  # a merged source keeps its figures as they were: history
    incident.first_seen_at = min(event.started_at for event in events)
    incident.last_seen_at = max(event.last_captured_at for event in events)
    incident.max_score = max(event.max_score for event in events)
    # Any alert that saw flames, not only the class an event started with.
    saw_fire = session.scalar(
        select(
            exists().where(
                Alert.event_id.in_([event.id for event in events]),
                Alert.detection_class == contracts.DetectionClass.FIRE.value,
            )
        )
    )
    incident.detection_class = (
        contracts.DetectionClass.FIRE if saw_fire else contracts.DetectionClass.SMOKE
    ).value


def _relocate(session: Session, incident_ids: Sequence[int], locator: Locator) -> None:
    """Locate each incident from the sightings it now holds; without any, it has no location."""
    session.flush()
    locate_incidents(session, incident_ids, locator)
    for incident_id, sightings in latest_sightings_of(session, incident_ids).items():
        incident = session.get_one(Incident, incident_id)
        if not sightings and incident.location is not None:
            session.delete(incident.location)
            incident.location = None


def merge_incidents(
    session: Session, source_id: int, target_id: int, operator: Operator, locator: Locator
) -> Regrouped:
    """Move every event of ``source_id`` into ``target_id`` and close the source."""
    if source_id == target_id:
        raise Conflict("un incident ne peut pas être regroupé avec lui-même")
    incidents = _locked(session, (source_id, target_id))
    source, target = incidents[source_id], incidents[target_id]
    _require_open(source)
    _require_open(target)
    events = session.scalars(select(Event).where(Event.incident_id == source_id)).all()
    for event in events:
        event.incident_id = target_id
    session.flush()
    refold(session, target)
    if target.acknowledged_at is None and source.acknowledged_at is not None:
        target.acknowledged_at = source.acknowledged_at
        target.acknowledged_by = source.acknowledged_by
    moved = {"events": len(events)}
    if _PROGRESS[source.status] > _PROGRESS[target.status]:
        target.status = transition(target.status, source.status)
        target.status_changed_at = utc_now()
        # Same entry as an operator's own step: the training labels read confirmations here.
        record_audit(
            session,
            f"incident.{source.status}",
            incident_id=target_id,
            operator=operator,
            details={"merged_from": source_id},
        )
    source.status = transition(source.status, IncidentStatus.CLOSED)
    source.status_changed_at = utc_now()
    source.merged_into_id = target_id
    record_audit(
        session,
        "incident.merged",
        incident_id=source_id,
        operator=operator,
        details={"into": target_id, **moved},
    )
    record_audit(
        session,
        "incident.joined",
        incident_id=target_id,
        operator=operator,
        details={"from": source_id, **moved},
    )
    _relocate(session, [target_id], locator)
    return Regrouped(
        (source_id, target_id), f"Incident n° {source_id} regroupé dans l'incident n° {target_id}."
    )


def split_event(
    session: Session, incident_id: int, event_id: uuid.UUID, operator: Operator, locator: Locator
) -> Regrouped:
    """Move one event of ``incident_id`` into a new incident of its own."""
    incident = _locked(session, (incident_id,))[incident_id]
    if incident.status == IncidentStatus.CLOSED:
        raise Conflict(f"action impossible : l'incident n° {incident_id} est clos")
    events = session.scalars(select(Event).where(Event.incident_id == incident_id)).all()
    event = next((candidate for candidate in events if candidate.id == event_id), None)
    if event is None:
        raise NotFound(f"détection {event_id} inconnue dans l'incident n° {incident_id}")
    if len(events) < 2:
        raise Conflict("l'incident n'a qu'une détection : rien à séparer")
    created = Incident(
        status=IncidentStatus.NEW,
        detection_class=event.detection_class,
        first_seen_at=event.started_at,
        last_seen_at=event.last_captured_at,
        max_score=event.max_score,
        status_changed_at=utc_now(),
    )
    session.add(created)
    session.flush()
    event.incident_id = created.id
    session.flush()
    refold(session, incident)
    refold(session, created)
    camera = session.get_one(Camera, event.camera_pk).key
    details = {"event_id": str(event.id), "camera": camera}
    record_audit(
        session,
        "incident.split",
        incident_id=incident_id,
        operator=operator,
        details={"to": created.id, **details},
    )
    record_audit(
        session,
        "incident.created",
        incident_id=created.id,
        operator=operator,
        details={"split_from": incident_id, **details},
    )
    _relocate(session, [incident_id, created.id], locator)
    return Regrouped(
        (incident_id, created.id),
        f"Détection de {camera} séparée : nouvel incident n° {created.id}.",
    )
