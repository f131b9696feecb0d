from __future__ import annotations

from datetime import timedelta

import pytest

from central.camera_health import camera_health
from central.db import Camera
from tests.unit.central.builders import T0


def camera(
    state: str | None = "online",
    heartbeat_age_s: float | None = 10.0,
    health: dict[str, object] | None = None,
) -> Camera:
    return Camera(
        site_id="s",
        camera_id="c",
        state=state,
        last_heartbeat_at=None
        if heartbeat_age_s is None
        else T0 - timedelta(seconds=heartbeat_age_s),
        heartbeat_interval_s=30.0,
        health=health,
    )


@pytest.mark.parametrize(
    ("subject", "edge_state", "online"),
    [
        (camera(), "online", True),
        # one heartbeat late (2.5 intervals of 30 s = 75 s) is still online
        (camera(heartbeat_age_s=74), None, True),
        (camera(heartbeat_age_s=76), None, False),
        # the camera says so
        (camera(state="offline"), "online", False),
        # the edge box died (its last will): every camera of the site is offline
        (camera(), "offline", False),
        # no heartbeat yet: trust the retained status
        (camera(heartbeat_age_s=None), None, True),
        (camera(state="degraded", heartbeat_age_s=None), None, False),
    ],
)
def test_online(subject: Camera, edge_state: str | None, online: bool) -> None:
    assert camera_health(subject, edge_state, T0).online is online


def test_frame_age_is_extrapolated_from_the_last_heartbeat() -> None:
    health = {"last_frame_age_s": 2.0, "blind_s": 40.0, "frozen": True, "outbox_depth": 3}
    view = camera_health(camera(heartbeat_age_s=10.0, health=health), None, T0)
    assert (view.last_frame_age_s, view.blind_s, view.frozen, view.outbox_depth) == (
        12.0,
        40.0,
        True,
        3,
    )
    assert view.heartbeat_age_s == 10.0


def test_no_health_reported_yet() -> None:
    view = camera_health(camera(heartbeat_age_s=None), None, T0)
    assert (view.last_frame_age_s, view.frozen, view.outbox_depth) == (None, None, None)
