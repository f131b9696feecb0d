"""One received MQTT message -> rows, inside the caller's transaction (no commit, no MQTT).

Bad messages (``contracts.ContractError``) go to the quarantine table with the reason and the
payload (truncated), so that one broken edge never blocks or loses anyone else's alerts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

import contracts
from central.db import QuarantinedMessage, Site
from central.db.registry import camera_for, site_for
from central.incidents.clustering import ClusterConfig
from central.incidents.locating import Locator
from central.incidents.service import IngestOutcome, IngestResult, ingest_alert

logger = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 255


class HandledKind(StrEnum):
    ALERT = "alert"
    HEARTBEAT = "heartbeat"
    STATUS = "status"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class Received:
    """A message as paho delivered it; ``mid``/``qos`` are what the acknowledgement needs."""

    topic: str
    payload: bytes
    mid: int
    qos: int


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


def handle_message(
    session: Session,
    message: Received,
    locator: Locator,
    config: HandlerConfig,
    pending_locations: set[int] | None = None,
) -> Handled:
    """Validate and store one message. Contract errors are quarantined, not raised.

    ``pending_locations``: see ``ingest_alert`` (the batch locates each incident once).
    """
    try:
        _, decoded = contracts.decode_message(message.topic, message.payload)
    except contracts.ContractError as error:
        logger.warning("quarantined a message on %s: %s", message.topic[:100], error.reason)
        return quarantine(session, message, error.reason, config)
    if isinstance(decoded, contracts.AlertMessage):
        result = ingest_alert(session, decoded, locator, config.cluster, pending_locations)
        return Handled(
            HandledKind.ALERT, camera_key=f"{decoded.site_id}/{decoded.camera_id}", alert=result
        )
    if isinstance(decoded, contracts.HeartbeatMessage):
        return _heartbeat(session, decoded)
    return _status(session, decoded)


def is_duplicate(handled: Handled) -> bool:
    return handled.alert is not None and handled.alert.outcome is IngestOutcome.DUPLICATE
