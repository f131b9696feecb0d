"""MQTT topic tree of contract v1: ``vigifeu/v1/<site>/<camera>/{alert,status,heartbeat}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

TOPIC_PREFIX = "vigifeu/v1"
# Reserved camera id for the edge box itself (its status is the MQTT last will). It cannot clash
# with a camera: camera ids start with a letter or digit.
EDGE_STATUS_CAMERA_ID = "_edge"

_SEGMENT = re.compile(r"^(_edge|[a-z0-9][a-z0-9_-]{0,62})$")


class MessageKind(StrEnum):
    ALERT = "alert"
    STATUS = "status"
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    site_id: str
    camera_id: str
    kind: MessageKind


def topic_for(site_id: str, camera_id: str, kind: MessageKind) -> str:
    return f"{TOPIC_PREFIX}/{site_id}/{camera_id}/{kind.value}"


def subscription_filter(kind: MessageKind | None = None, site_id: str = "+") -> str:
    """An MQTT filter for one kind of message (or all) of one site (or all)."""
    return f"{TOPIC_PREFIX}/{site_id}/+/{kind.value if kind else '+'}"


def parse_topic(topic: str) -> ParsedTopic:
    """Split a v1 topic; raises ValueError naming what is wrong."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_PREFIX:
        raise ValueError(f"topic {topic!r} is not {TOPIC_PREFIX}/<site>/<camera>/<kind>")
    _, _, site_id, camera_id, kind = parts
    for name, value in (("site", site_id), ("camera", camera_id)):
        if not _SEGMENT.match(value):
            raise ValueError(f"topic {topic!r} has an invalid {name} id {value!r}")
    try:
        return ParsedTopic(site_id, camera_id, MessageKind(kind))
    except ValueError:
        raise ValueError(f"topic {topic!r} has an unknown message kind {kind!r}") from None
