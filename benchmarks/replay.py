"""Offline replay of one camera's detections through the edge's filters and confirmation.

The same two calls as the edge worker's per-camera pipeline (``edge.runtime.worker.CameraPipeline``):
``filter_detections`` with the camera's masks and thresholds, then ``EventConfirmer.update``. The
only difference is the event id factory: ids come from a counter under a fixed namespace instead
of ``uuid4``, so a replay writes the same events and alert ids every time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from uuid import UUID, uuid5

from edge.config import Camera, Pose
from edge.events.confirmation import EventConfirmer, EventTransition
from edge.events.filters import filter_detections
from edge.messages import FrameDetections

# Fixed: changing it changes every replayed event id.
REPLAY_NAMESPACE = UUID("0b8f4a52-3d1e-4c6f-9e2a-7a5d1c3b9f40")


@dataclass(frozen=True, slots=True)
class ReplayStep:
    kept: FrameDetections  # the detections that passed the filters
    transitions: tuple[EventTransition, ...]


class ReplayPipeline:
    """Filters -> confirmation for one camera, with reproducible event ids."""

    def __init__(self, camera: Camera, replay_name: str) -> None:
        self.camera = camera
        self._poses = {pose.id: pose for pose in camera.poses}
        counter = itertools.count()
        self._confirmer = EventConfirmer(
            camera.thresholds,
            id_factory=lambda: uuid5(REPLAY_NAMESPACE, f"{replay_name}/{next(counter)}"),
        )

    def pose(self, pose_id: str | None) -> Pose | None:
        return self._poses.get(pose_id) if pose_id is not None else None

    def step(self, found: FrameDetections) -> ReplayStep:
        pose = self.pose(found.frame.pose_id)
        thresholds = self.camera.thresholds
        kept = FrameDetections(
            found.frame,
            filter_detections(
                found.detections,
                masks=[*self.camera.masks, *(pose.masks if pose else [])],
                max_box_width_fraction=thresholds.max_box_width_fraction,
                score_floor=thresholds.detection_score,
            ),
            found.timings,
        )
        return ReplayStep(kept, tuple(self._confirmer.update(kept)))
