"""One received MQTT message -> rows, inside the caller's transaction (no commit, no MQTT).

Bad messages (``contracts.ContractError``) go to the quarantine table with the reason and the
payload (truncated), so that one broken edge never blocks or loses anyone else's alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

import contracts
from central.db import QuarantinedMessage, Site
from central.db.registry import camera_for, site_for
from central.events_bus import Change
from central.incidents.clustering import ClusterConfig
from central.incidents.locating import Locator
from central.incidents.service import IngestOutcome, IngestResult, ingest_alerts

logger = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 255


class HandledKind(StrEnum):
    ALERT = "alert"
    HEARTBEAT = "heartbeat"
    STATUS = "status"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class Received:
    """A message as paho delivered it; ``mid``/``qos``/``connection`` are what the
    acknowledgement needs (packet ids only mean something on the connection that used them)."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    connection: int = 0


@dataclass(frozen=True, slots=True)
class Handled:
    """What a message changed: listeners (live console, dispatch) re-read from this."""

    kind: HandledKind
    camera_key: str | None = None
    alert: IngestResult | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class HandlerConfig:
    instance_id: str
    quarantine_payload_max_bytes: int
    cluster: ClusterConfig


def quarantine(session: Session, message: Received, reason: str, config: HandlerConfig) -> Handled:
    session.add(
        QuarantinedMessage(
            instance_id=config.instance_id,
            topic=message.topic[:MAX_TOPIC_CHARS],
            reason=reason,
            payload=message.payload[: config.quarantine_payload_max_bytes],
            payload_size=len(message.payload),
        )
    )
    return Handled(HandledKind.QUARANTINED, reason=reason)


def _heartbeat(session: Session, message: contracts.HeartbeatMessage) -> Handled:
    camera = camera_for(session, message.site_id, message.camera_id, seen_at=message.sent_at)
    if camera.last_heartbeat_at is None or camera.last_heartbeat_at <= message.sent_at:
        camera.last_heartbeat_at = message.sent_at
        camera.heartbeat_interval_s = message.interval_s
        camera.health = message.health.model_dump(mode="json")
    return Handled(HandledKind.HEARTBEAT, camera_key=camera.key)


def _status(session: Session, message: contracts.CameraStatusMessage) -> Handled:
    """Retained availability: applied only when newer than what is stored (replays are common)."""
    key = f"{message.site_id}/{message.camera_id}"
    if message.camera_id == contracts.EDGE_STATUS_CAMERA_ID:
        site: Site = site_for(session, message.site_id, seen_at=message.changed_at)
        if site.edge_state_changed_at is None or site.edge_state_changed_at <= message.changed_at:
            site.edge_state = message.state.value
            site.edge_state_reason = message.reason
            site.edge_state_changed_at = message.changed_at
        return Handled(HandledKind.STATUS, camera_key=key)
    camera = camera_for(session, message.site_id, message.camera_id, seen_at=message.changed_at)
    if camera.state_changed_at is None or camera.state_changed_at <= message.changed_at:
        camera.state = message.state.value
        camera.state_reason = message.reason
        camera.state_changed_at = message.changed_at
    return Handled(HandledKind.STATUS, camera_key=key)


def _decode(message: Received) -> contracts.WireMessage | contracts.ContractError:
    try:
        return contracts.decode_message(message.topic, message.payload)[1]
    except contracts.ContractError as error:
        return error


def handle_batch(
    session: Session, messages: Sequence[Received], locator: Locator, config: HandlerConfig
) -> list[Handled]:
    """Validate and store messages in the caller's transaction; contract errors are quarantined.

    The alerts of the batch are stored together (``central.incidents.service.ingest_alerts``:
    bulk rows, each incident located once); the result keeps the order of ``messages``.
    """
    decoded = [_decode(message) for message in messages]
    alerts = [item for item in decoded if isinstance(item, contracts.AlertMessage)]
    results = iter(ingest_alerts(session, alerts, locator, config.cluster))
    handled = []
    for message, item in zip(messages, decoded, strict=True):
        if isinstance(item, contracts.ContractError):
            logger.warning("quarantined a message on %s: %s", message.topic[:100], item.reason)
            handled.append(quarantine(session, message, item.reason, config))
        elif isinstance(item, contracts.AlertMessage):
            camera_key = f"{item.site_id}/{item.camera_id}"
            handled.append(Handled(HandledKind.ALERT, camera_key=camera_key, alert=next(results)))
        elif isinstance(item, contracts.HeartbeatMessage):
            handled.append(_heartbeat(session, item))
        else:
            handled.append(_status(session, item))
    return handled


def is_duplicate(handled: Handled) -> bool:
    return handled.alert is not None and handled.alert.outcome is IngestOutcome.DUPLICATE


def change_of(handled: Handled) -> Change | None:
    """What a committed message changed for the live pages (None: nothing visible)."""
    result = handled.alert
    if result is not None and result.incident_id is not None:
        if result.outcome is IngestOutcome.DUPLICATE:
            return None
        return Change(
            "incident", str(result.incident_id), "created" if result.incident_created else "updated"
        )
    if handled.camera_key is not None:
        return Change("camera", handled.camera_key)
    return None
