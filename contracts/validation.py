"""Decoding and encoding of wire messages, with one error type that says why a message is bad."""

from __future__ import annotations

from pydantic import ValidationError

from contracts.messages import (
    AlertMessage,
    CameraStatusMessage,
    HeartbeatMessage,
)
from contracts.topics import MessageKind, ParsedTopic, parse_topic

WireMessage = AlertMessage | HeartbeatMessage | CameraStatusMessage

_MODELS: dict[
    MessageKind, type[AlertMessage] | type[HeartbeatMessage] | type[CameraStatusMessage]
] = {
    MessageKind.ALERT: AlertMessage,
    MessageKind.HEARTBEAT: HeartbeatMessage,
    MessageKind.STATUS: CameraStatusMessage,
}

# Payloads above this are refused before parsing: an alert with two capped snapshots is ~0.8 MB.
MAX_PAYLOAD_BYTES = 2_000_000


class ContractError(ValueError):
    """A message that does not follow contract v1. ``reason`` is short and loggable."""

    def __init__(self, reason: str, topic: str) -> None:
        super().__init__(f"{topic}: {reason}")
        self.reason = reason
        self.topic = topic


def _summarise(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        location = ".".join(str(part) for part in item["loc"]) or "<root>"
        parts.append(f"{location}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def decode_message(topic: str, payload: bytes) -> tuple[ParsedTopic, WireMessage]:
    """Validate a received MQTT message against contract v1.

    The topic must agree with the site and camera inside the payload, so a worker cannot publish
    for a camera it does not own by mistake.
    """
    try:
        parsed = parse_topic(topic)
    except ValueError as error:
        raise ContractError(str(error), topic) from None
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}", topic)
    try:
        message = _MODELS[parsed.kind].model_validate_json(payload)
    except ValidationError as error:
        raise ContractError(_summarise(error), topic) from None
    if (message.site_id, message.camera_id) != (parsed.site_id, parsed.camera_id):
        raise ContractError(
            f"payload is for {message.site_id}/{message.camera_id}, topic says "
            f"{parsed.site_id}/{parsed.camera_id}",
            topic,
        )
    return parsed, message


def encode_message(message: WireMessage) -> bytes:
    return message.model_dump_json().encode("utf-8")
