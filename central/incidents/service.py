"""Store alerts once each and fold them into incidents: idempotent, located, in the caller's
transaction.

``ingest_alerts`` never commits: the ingest consumer commits a batch of messages and only then
acknowledges them to the broker. Per batch it asks the database which alerts are stored and
which events they continue (``memo.prefetch``), reads the clustering candidates once
(``candidates.OpenIncidents``), inserts the alert rows in bulk (``rows.AlertRows``) and locates
each incident the batch touched once, after all its alerts.

Nothing is written before the end of the batch: an incident the batch creates gets a provisional
(negative) key until the one flush gives it its id. On SQLite the first write of a transaction
takes the database's single write lock until the commit; creating incidents as they came held
it through most of the batch's clustering and geolocation, so a second central instance mostly
waited. `vigifeu bench ingest --instances 2 --fires 200 --updates 8`, five runs each on 2 cores:
median 714 msg/s before, 801 after (one instance unchanged, ~750). The instances now overlap
more, so more batches meet an event the other just stored and are stored again (5-14 a run
against 2-6): that retry is most of what two instances still lose.
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
        stored = [batch.store(alert) for alert in alerts]
        session.flush()  # events and incidents before the alerts that reference them
        results = batch.settle(stored)
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
        # Incidents created by this batch, by provisional key (-1, -2, ...) until the flush.
        self._created: dict[int, _Created] = {}
        self._event_keys: dict[uuid.UUID, int] = {}  # new events of created incidents

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
            key, created, cone = self._incident_for(alert, sighting)
            event = Event(
                id=alert.event_id,
                camera_pk=camera.id,
                pose_pk=pose.id,
                detection_class=alert.detection_class.value,
                started_at=alert.captured_at,
                last_captured_at=alert.captured_at,
                max_score=alert.score,
                alert_count=0,
            )
            if key < 0:  # a created incident: the flush fills in its id
                self._created[key].incident.events.append(event)
                self._event_keys[alert.event_id] = key
            else:
                event.incident_id = key
            self._session.add(event)
            memo.events[alert.event_id] = event
        else:
            key = self._event_keys.get(alert.event_id, event.incident_id)
        incident = self._incident(key)
        _fold(incident, event, alert)
        if self._candidates is not None:
            self._candidates.note(key, camera.key, alert, sighting, cone)
        self.rows.add(alert, camera.id, pose.id, memo.snapshots)
        memo.alerts[alert.alert_id] = key
        if box is not None:
            self.boxed.add(alert.alert_id)
            self.boxed_incidents.add(key)
        return IngestResult(IngestOutcome.STORED, alert.alert_id, key, created)

    def settle(self, results: list[IngestResult]) -> list[IngestResult]:
        """After the flush: provisional keys become the created incidents' ids, in the results
        and everything the session remembers, and their creation goes into the audit log."""
        if not self._created:
            return results
        ids = {key: created.incident.id for key, created in self._created.items()}
        memo = self._memo
        for key, created in self._created.items():
            memo.incidents[ids[key]] = memo.incidents.pop(key)
            record_audit(
                self._session, "incident.created", incident_id=ids[key], details=created.audit
            )
        settled = [(alert_id, ids[key]) for alert_id, key in memo.alerts.items() if key < 0]
        memo.alerts.update(settled)
        self.boxed_incidents = {ids.get(key, key) for key in self.boxed_incidents}
        self._created.clear()
        self._event_keys.clear()
        return [
            replace(result, incident_id=ids[result.incident_id])
            if result.incident_id < 0
            else result
            for result in results
        ]

    def _incident(self, incident_id: int) -> Incident:
        incident = self._memo.incidents.get(incident_id)
        if incident is None:
            incident = self._session.get_one(Incident, incident_id)
            self._memo.incidents[incident_id] = incident
        return incident

    def _incident_for(
        self, alert: contracts.AlertMessage, sighting: Sighting | None
    ) -> tuple[int, bool, BearingCone | None]:
        """The key of the incident a new event joins (an id, or a provisional key when the
        batch creates it because no open incident fits); whether it was created; the cone it
        was chosen by."""
        assert self._candidates is not None, "read when the batch starts an event"
        cone = None if sighting is None else self._candidates.cone(sighting)
        chosen = self._candidates.choose(cone, alert.captured_at)
        if chosen is not None:
            return chosen, False, cone
        incident = Incident(
            status=IncidentStatus.NEW,
            detection_class=alert.detection_class.value,
            first_seen_at=alert.captured_at,
            last_seen_at=alert.captured_at,
            max_score=alert.score,
            status_changed_at=utc_now(),
        )
        self._session.add(incident)
        key = -(len(self._created) + 1)
        self._created[key] = _Created(
            incident,
            {"alert_id": str(alert.alert_id), "camera": f"{alert.site_id}/{alert.camera_id}"},
        )
        self._memo.incidents[key] = incident
        self._candidates.add(key, alert.captured_at)
        return key, True, cone


@dataclass(frozen=True, slots=True)
class _Created:
    incident: Incident
    audit: dict[str, str]


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
