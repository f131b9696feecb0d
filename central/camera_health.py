"""Is a camera online, and how stale is its picture? Pure, from the stored status and heartbeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from central.db import Camera

# A camera is online while its last heartbeat is younger than this many intervals: 2.5 lets one
# heartbeat be lost or late without flapping, and flags a dead edge within ~2 intervals.
HEARTBEAT_GRACE_INTERVALS = 2.5
MIN_HEARTBEAT_GRACE_S = 10.0


@dataclass(frozen=True, slots=True)
class CameraHealthView:
    online: bool
    last_heartbeat_at: datetime | None
    heartbeat_age_s: float | None
    last_frame_age_s: float | None  # now, extrapolated from the last heartbeat
    blind_s: float | None
    frozen: bool | None
    outbox_depth: int | None


def _number(health: dict[str, object], key: str) -> float | None:
    value = health.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def camera_health(camera: Camera, edge_state: str | None, now: datetime) -> CameraHealthView:
    """Health of ``camera`` at ``now`` (tz-aware UTC) given its site's edge-box state."""
    health = camera.health or {}
    reachable = camera.state != "offline" and edge_state != "offline"
    heartbeat_age_s = None
    frame_age_s = _number(health, "last_frame_age_s")
    if camera.last_heartbeat_at is None:
        online = reachable and camera.state == "online"
    else:
        heartbeat_age_s = max(0.0, (now - camera.last_heartbeat_at).total_seconds())
        grace_s = max(
            HEARTBEAT_GRACE_INTERVALS * (camera.heartbeat_interval_s or 0.0), MIN_HEARTBEAT_GRACE_S
        )
        online = reachable and heartbeat_age_s <= grace_s
        if frame_age_s is not None:
            frame_age_s += heartbeat_age_s
    outbox = _number(health, "outbox_depth")
    frozen = health.get("frozen")
    return CameraHealthView(
        online=online,
        last_heartbeat_at=camera.last_heartbeat_at,
        heartbeat_age_s=heartbeat_age_s,
        last_frame_age_s=frame_age_s,
        blind_s=_number(health, "blind_s"),
        frozen=frozen if isinstance(frozen, bool) else None,
        outbox_depth=int(outbox) if outbox is not None else None,
    )
