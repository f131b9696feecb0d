"""The wire contract between edge workers and central, shared by both sides.

Edge and central never import each other: they agree on these pydantic models only. Every message
carries ``schema_version``; a change that breaks old readers bumps it and the topic prefix.
"""

from contracts.messages import (
    SCHEMA_VERSION,
    AlertMessage,
    BoundingBox,
    CameraGeometry,
    CameraHealth,
    CameraState,
    CameraStatusMessage,
    DetectionClass,
    EventState,
    HeartbeatMessage,
    LensModel,
    ModelInfo,
    Snapshot,
    SnapshotKind,
)
from contracts.topics import (
    EDGE_STATUS_CAMERA_ID,
    TOPIC_PREFIX,
    MessageKind,
    ParsedTopic,
    parse_topic,
    subscription_filter,
    topic_for,
)
from contracts.validation import ContractError, WireMessage, decode_message, encode_message

__all__ = [
    "EDGE_STATUS_CAMERA_ID",
    "SCHEMA_VERSION",
    "TOPIC_PREFIX",
    "AlertMessage",
    "BoundingBox",
    "CameraGeometry",
    "CameraHealth",
    "CameraState",
    "CameraStatusMessage",
    "ContractError",
    "DetectionClass",
    "EventState",
    "HeartbeatMessage",
    "LensModel",
    "MessageKind",
    "ModelInfo",
    "ParsedTopic",
    "Snapshot",
    "SnapshotKind",
    "WireMessage",
    "decode_message",
    "encode_message",
    "parse_topic",
    "subscription_filter",
    "topic_for",
]
