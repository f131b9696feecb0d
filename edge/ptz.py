"""Camera control and the patrol of PTZ presets: go to a pose, let it settle, capture, move on.

The patrol is a pure schedule driven by a monotonic clock. Moving the camera goes through the
small ``CameraControl`` Protocol; ``FixedMount`` is the no-op for fixed cameras and replays (a
replayed PTZ recording still gets its frames tagged with the pose of the schedule).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from edge.config import Pose

logger = logging.getLogger(__name__)


class PtzError(RuntimeError):
    """The camera did not reach a preset (refused, unreachable or timed out)."""


class CameraControl(Protocol):
    def goto(self, pose: Pose) -> None:
        """Start moving to ``pose``; returns once the camera accepted the order.

        Implementations bound the call with their own timeout and raise PtzError on failure.
        """
        ...


class FixedMount:
    """A camera that never moves: every order is already satisfied."""

    def goto(self, pose: Pose) -> None:
        return None


@dataclass(frozen=True, slots=True)
class PatrolPosition:
    pose: Pose | None  # None for a fixed camera
    capturing: bool  # False while moving or settling: frames are blurred or mis-aimed


class Patrol:
    """Cycles through ``poses``: on each, ``settle_s`` without capture, then ``dwell_s`` capturing.

    A camera without poses is fixed: always capturing, pose None. A pose whose move fails is
    skipped for this round (logged), so one broken preset does not stop the patrol.
    """

    def __init__(self, camera_id: str, poses: Sequence[Pose], control: CameraControl) -> None:
        self._camera_id = camera_id
        self._poses = tuple(poses)
        self._control = control
        self._index = -1
        self._arrived_s = 0.0
        self._aimed = False
        self.failed_moves = 0

    def position(self, now_s: float) -> PatrolPosition:
        """Where the camera is at ``now_s`` (monotonic), moving it when its dwell is over."""
        if not self._poses:
            return PatrolPosition(None, capturing=True)
        if self._index < 0 or now_s >= self._arrived_s + self._stay_s(self._poses[self._index]):
            self._advance(now_s)
        pose = self._poses[self._index]
        settled = now_s >= self._arrived_s + pose.settle_s
        return PatrolPosition(pose, capturing=self._aimed and settled)

    @staticmethod
    def _stay_s(pose: Pose) -> float:
        return pose.settle_s + pose.dwell_s

    def _advance(self, now_s: float) -> None:
        for _ in self._poses:
            self._index = (self._index + 1) % len(self._poses)
            pose = self._poses[self._index]
            try:
                self._control.goto(pose)
            except PtzError as error:
                self.failed_moves += 1
                logger.warning(
                    "camera %s: cannot go to pose %s: %s", self._camera_id, pose.id, error
                )
                continue
            self._arrived_s = now_s
            self._aimed = True
            return
        # Every preset failed: where the camera looks is unknown, so capture nothing and try the
        # round again after one settle + dwell of the last pose.
        self._arrived_s = now_s
        self._aimed = False
