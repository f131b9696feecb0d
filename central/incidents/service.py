"""Store alerts once each and fold them into incidents: idempotent, located, in the caller's
transaction.

``ingest_alerts`` never commits: the ingest consumer commits a batch of messages and only then
acknowledges them to the broker. Per batch it asks the database which alerts are stored and
which events they continue (``memo.prefetch``), reads the clustering candidates once
(``candidates.OpenIncidents``), inserts the alert rows in bulk (``rows.AlertRows``) and locates
each incident the batch touched once, after all its alerts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

import contracts
from central.audit import record_audit
from central.db import Event, Incident, utc_now
from central.db.registry import camera_for, pose_for
from central.db.writes import insert_one
from central.geo.locate import Sighting
from central.incidents.candidates import OpenIncidents
from central.incidents.clustering import BearingCone, ClusterConfig
from central.incidents.lifecycle import IncidentStatus
from central.incidents.locating import Locator, locate_incidents
from central.incidents.memo import IngestMemo, prefetch
from central.incidents.rows import AlertRows

logger = logging.getLogger(__name__)

DEFAULT_CLUSTER_CONFIG = ClusterConfig()


class IngestOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    alert_id: uuid.UUID
    incident_id: int  # of the first copy, for a duplicate
    incident_created: bool = False
    located: bool = False  # its incident's location was (re)computed by this call


def main_box(alert: contracts.AlertMessage) -> contracts.BoundingBox | None:
    """The box a sighting is made of: the highest-scoring one (None for an ``end``)."""
    return max(alert.boxes, key=lambda box: box.score, default=None)


def ingest_alert(
    session: Session,
    alert: contracts.AlertMessage,
    locator: Locator,
    config: ClusterConfig = DEFAULT_CLUSTER_CONFIG,
) -> IngestResult:
    """``ingest_alerts`` of one alert."""
    return ingest_alerts(session, [alert], locator, config)[0]


def ingest_alerts(
    session: Session,
    alerts: Sequence[contracts.AlertMessage],
    locator: Locator,
    config: ClusterConfig = DEFAULT_CLUSTER_CONFIG,
) -> list[IngestResult]:
    """Store each alert once (by ``alert_id``), attach it to an incident, locate the incidents.

    Same ``event_id`` -> same incident. A new event joins an open incident whose bearings agree
    (``central.incidents.clustering``) or starts a new one. Each incident that received a box
    is re-located once, after all the alerts. Does not commit; a caller that rolls back and
    reuses the session calls ``central.incidents.memo.forget_memo`` first.
    """
    memo = IngestMemo.of(session)
    with session.no_autoflush:
        session.flush()  # the caller's own changes are read back with the stored rows
        prefetch(session, memo, alerts)
        candidates = _candidates(session, memo, alerts, config, locator)
        batch = _Batch(session, memo, candidates)
        results = [batch.store(alert) for alert in alerts]
        session.flush()  # events and incidents before the alerts that reference them
        batch.rows.write(session)
        located = locate_incidents(session, batch.boxed_incidents, locator)
    return [
        replace(result, located=True)
        if result.alert_id in batch.boxed and result.incident_id in located
        else result
        for result in results
    ]


def _candidates(
    session: Session,
    memo: IngestMemo,
    alerts: Sequence[contracts.AlertMessage],
    config: ClusterConfig,
    locator: Locator,
) -> OpenIncidents | None:
    """The clustering candidates, read only when the batch starts a new event."""
    fresh = [alert for alert in alerts if alert.alert_id not in memo.alerts]
    starts = [alert.captured_at for alert in fresh if alert.event_id not in memo.events]
    if not starts:
        return None
    touched = {memo.events[a.event_id].incident_id for a in fresh if a.event_id in memo.events}
    since = min(starts) - timedelta(seconds=config.window_s)
    return OpenIncidents.load(session, since, touched, config, locator)


class _Batch:
    """The alerts of one call, stored one after the other in arrival order."""

    def __init__(
        self,
        session: Session,
        memo: IngestMemo,
        candidates: OpenIncidents | None,
    ) -> None:
        self._session = session
        self._memo = memo
        self._candidates = candidates
        self.rows = AlertRows()
        self.boxed: set[uuid.UUID] = set()  # alerts with a box: they may move the location
        self.boxed_incidents: set[int] = set()

    def store(self, alert: contracts.AlertMessage) -> IngestResult:
        memo = self._memo
        stored_in = memo.alerts.get(alert.alert_id)
        if stored_in is not None:
            return IngestResult(IngestOutcome.DUPLICATE, alert.alert_id, stored_in)
        camera = camera_for(self._session, alert.site_id, alert.camera_id, alert.captured_at)
        camera.latitude_deg = alert.camera.latitude_deg
        camera.longitude_deg = alert.camera.longitude_deg
        camera.lens_altitude_m = alert.camera.lens_altitude_m
        camera.last_alert_at = max(camera.last_alert_at or alert.captured_at, alert.captured_at)
        pose = pose_for(self._session, camera, alert.camera, alert.captured_at)
        box = main_box(alert)
        sighting = (
            None if box is None else Sighting(camera.key, alert.camera, box, alert.captured_at)
        )
        cone = None  # made only for a new event, the one comparison that needs it
        event = memo.events.get(alert.event_id)
        created = False
        if event is None:
            incident, created, cone = self._incident_for(alert, sighting)
            event = Event(
                id=alert.event_id,
                camera_pk=camera.id,
                pose_pk=pose.id,
                incident_id=incident.id,
                detection_class=alert.detection_class.value,
                started_at=alert.captured_at,
                last_captured_at=alert.captured_at,
                max_score=alert.score,
                alert_count=0,
            )
            self._session.add(event)
            memo.events[alert.event_id] = event
        else:
            incident = self._incident(event.incident_id)
        _fold(incident, event, alert)
        if self._candidates is not None:
            self._candidates.note(incident.id, camera.key, alert, sighting, cone)
        self.rows.add(alert, camera.id, pose.id, memo.snapshots)
        memo.alerts[alert.alert_id] = incident.id
        if box is not None:
            self.boxed.add(alert.alert_id)
            self.boxed_incidents.add(incident.id)
        return IngestResult(IngestOutcome.STORED, alert.alert_id, incident.id, created)

    def _incident(self, incident_id: int) -> Incident:
        incident = self._memo.incidents.get(incident_id)
        if incident is None:
            incident = self._session.get_one(Incident, incident_id)
            self._memo.incidents[incident_id] = incident
        return incident

    def _incident_for(
        self, alert: contracts.AlertMessage, sighting: Sighting | None
    ) -> tuple[Incident, bool, BearingCone | None]:
        """The incident a new event joins, created when no open incident fits; whether it was
        created; the cone it was chosen by."""
        assert self._candidates is not None, "read when the batch starts an event"
        cone = None if sighting is None else self._candidates.cone(sighting)
        chosen = self._candidates.choose(cone, alert.captured_at)
        if chosen is not None:
            return self._incident(chosen), False, cone
        # Inserted alone rather than by a flush of the whole batch so far (~10 ms each).
        incident_id = insert_one(
            self._session,
            Incident,
            {
                "status": IncidentStatus.NEW,
                "detection_class": alert.detection_class.value,
                "first_seen_at": alert.captured_at,
                "last_seen_at": alert.captured_at,
                "max_score": alert.score,
                "status_changed_at": utc_now(),
            },
        )
        incident = self._session.get_one(Incident, incident_id)
        record_audit(
            self._session,
            "incident.created",
            incident_id=incident.id,
            details={
                "alert_id": str(alert.alert_id),
                "camera": f"{alert.site_id}/{alert.camera_id}",
            },
        )
        self._memo.incidents[incident.id] = incident
        self._candidates.add(incident.id, alert.captured_at)
        return incident, True, cone


def _fold(incident: Incident, event: Event, alert: contracts.AlertMessage) -> None:
    """Widen the event's and the incident's time span and scores with this alert."""
    event.last_captured_at = max(event.last_captured_at, alert.captured_at)
    event.started_at = min(event.started_at, alert.captured_at)
    event.max_score = max(event.max_score, alert.score)
    event.alert_count += 1
    if alert.state is contracts.EventState.END:
        event.ended_at = alert.captured_at
    incident.first_seen_at = min(incident.first_seen_at, alert.captured_at)
    incident.last_seen_at = max(incident.last_seen_at, alert.captured_at)
    incident.max_score = max(incident.max_score, alert.score)
    if alert.detection_class is contracts.DetectionClass.FIRE:
        incident.detection_class = contracts.DetectionClass.FIRE.value
