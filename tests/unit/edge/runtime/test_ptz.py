"""The patrol visits each preset in turn, captures only once settled, and survives a failed move."""

from __future__ import annotations

from edge.config import Pose
from edge.ptz import FixedMount, Patrol, PtzError

POSES = [
    Pose(id="north", heading_deg=0, settle_s=2, dwell_s=10),
    Pose(id="east", heading_deg=90, settle_s=2, dwell_s=10),
]


class RecordingControl:
    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.moves: list[str] = []
        self.failing = failing

    def goto(self, pose: Pose) -> None:
        self.moves.append(pose.id)
        if pose.id in self.failing:
            raise PtzError("preset refused")


def test_a_fixed_camera_always_captures_without_a_pose() -> None:
    patrol = Patrol("cam", [], FixedMount())
    position = patrol.position(123.0)
    assert position.pose is None
    assert position.capturing


def test_patrol_settles_dwells_and_moves_on_in_order() -> None:
    control = RecordingControl()
    patrol = Patrol("cam", POSES, control)
    timeline = [(t, patrol.position(t)) for t in (0.0, 1.0, 2.0, 11.9, 12.0, 13.0, 14.0, 24.0)]
    assert [(t, p.pose.id if p.pose else None, p.capturing) for t, p in timeline] == [
        (0.0, "north", False),  # just moved: settling
        (1.0, "north", False),
        (2.0, "north", True),
        (11.9, "north", True),
        (12.0, "east", False),  # settle 2 + dwell 10 over: next preset
        (13.0, "east", False),
        (14.0, "east", True),
        (24.0, "north", False),  # and round again
    ]
    assert control.moves == ["north", "east", "north"]


def test_a_failing_preset_is_skipped_for_the_round() -> None:
    control = RecordingControl(failing=frozenset({"north"}))
    patrol = Patrol("cam", POSES, control)
    position = patrol.position(0.0)
    assert position.pose is not None
    assert position.pose.id == "east"
    assert patrol.failed_moves == 1


def test_when_every_preset_fails_nothing_is_captured() -> None:
    patrol = Patrol("cam", POSES, RecordingControl(failing=frozenset({"north", "east"})))
    assert not patrol.position(0.0).capturing
    assert not patrol.position(5.0).capturing
    assert patrol.failed_moves == 2
