"""Temporal confirmation per camera pose (Pyronear's sliding window with hysteresis).

For each pose the last N analysed frames are kept (N = ``thresholds.window_frames``). Every box in
the window is a candidate; for each frame of the window, the best box of the same class that
overlaps the candidate counts once. A candidate is confirmed when

* at least ceil(N / 2) frames of the window have an overlapping box, and
* the sum of those per-frame best scores reaches ``thresholds.confirm_score`` (x0.8 while an event
  of that class is open: hysteresis, so one weak frame does not end a burning event).

"Overlap" is intersection over the *smaller* box >= 0.1, not IoU: a young plume grows between
frames and its first 10 x 10 px box inside a 40 x 60 px box of a later frame has IoU 0.04 but
covers itself fully. The 0.1 floor keeps corner grazes between unrelated boxes out. Counting one
box per frame keeps a detector that emits duplicates from confirming on a single frame.

The event score is the confirmed sum divided by N (the window mean), so it lies in [0, 1].
Lifecycle per (pose, class): ``start`` when first confirmed, ``update`` at most every
``update_interval_s`` while confirmed, ``end`` once nothing was confirmed for ``end_after_s``.
Time is read only from ``frame.captured_at``, so replays give the same answers as live runs.
Windows count frames, not seconds: a PTZ pose revisited every few minutes confirms over its own
last N visits. After a stream loss the runtime calls ``flush`` to end events and empty windows.

One confirmer serves one camera (thresholds are per camera); it keeps one window per pose.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

import numpy as np
import numpy.typing as npt

from contracts import EventState
from edge.config import Thresholds
from edge.messages import Detection, DetectionClass, Frame, FrameDetections

MIN_OVERLAP = 0.1  # intersection over the smaller box (see module docstring)
HYSTERESIS_FACTOR = 0.8  # Pyronear's relaxation while an alert is ongoing
# Boxes kept per frame in the window: bounds the pairwise overlap matrix at (30 x 20)^2.
MAX_BOXES_PER_FRAME = 20

PoseKey = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class EventTransition:
    """One step of an event's lifecycle, ready to become a wire alert."""

    state: EventState
    event_id: UUID
    sequence: int  # 0 for the start, then 1, 2, ...
    camera_id: str
    pose_id: str | None
    captured_at: datetime
    detection_class: DetectionClass
    score: float  # window mean of the best confirmed candidate, in [0, 1]
    boxes: tuple[Detection, ...]  # confirmed boxes (latest position); empty for an end
    frame: Frame | None  # the frame of this step (for an end: the last frame of the pose)


@dataclass(frozen=True, slots=True)
class Confirmation:
    boxes: tuple[Detection, ...]  # empty: nothing confirmed
    score: float


@dataclass(slots=True)
class _OpenEvent:
    event_id: UUID
    sequence: int
    last_confirmed_at: datetime
    last_emitted_at: datetime
    score: float
    # Kept for ``flush``: its end needs the pose's image size. Only open events hold a frame, so
    # a patrolling camera does not keep one 6 MB image per pose.
    last_frame: Frame


@dataclass(slots=True)
class _PoseState:
    window: deque[tuple[Detection, ...]]
    events: dict[DetectionClass, _OpenEvent] = field(default_factory=dict)


def _overlaps(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """(A, B) matrix: intersection over the smaller box of a[i] and b[j] >= MIN_OVERLAP."""
    width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    intersection = np.clip(width, 0, None) * np.clip(height, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    result: npt.NDArray[np.bool_] = intersection >= MIN_OVERLAP * smaller
    return result


def confirm(
    window: Sequence[Sequence[Detection]], *, window_frames: int, threshold: float
) -> Confirmation:
    """Confirmed boxes of one class in a window (oldest frame first), each at its latest position.

    Pure: ``EventConfirmer`` calls it per pose and class; benchmarks can call it directly.
    """
    frames = [sorted(boxes, key=lambda d: -d.score)[:MAX_BOXES_PER_FRAME] for boxes in window]
    pooled = [box for boxes in frames for box in boxes]
    if not pooled:
        return Confirmation((), 0.0)
    corners = np.array([(d.x_min, d.y_min, d.x_max, d.y_max) for d in pooled])
    scores = np.array([d.score for d in pooled])
    sizes = [len(boxes) for boxes in frames]
    frame_of = np.repeat(np.arange(len(frames)), sizes)  # frame index of each pooled box
    starts = np.cumsum([0, *sizes[:-1]])[np.array(sizes) > 0]  # strictly increasing
    overlap = _overlaps(corners, corners)  # candidates x pooled boxes
    # Per frame, the best overlapping score (0 when none): one vote per frame.
    best = np.maximum.reduceat(np.where(overlap, scores[None, :], 0.0), starts, axis=1)
    votes = np.logical_or.reduceat(overlap, starts, axis=1).sum(axis=1)
    totals = best.sum(axis=1)
    confirmed = (votes >= math.ceil(window_frames / 2)) & (totals >= threshold)
    if not confirmed.any():
        return Confirmation((), min(1.0, float(totals.max()) / window_frames))
    kept: list[int] = []
    for index in np.argsort(-totals, kind="stable"):
        if confirmed[index] and not any(overlap[index, other] for other in kept):
            kept.append(int(index))
    boxes = []
    for index in kept:
        # Report each plume where it is now: its best box in the most recent frame that has one.
        matches = overlap[index] & (frame_of == frame_of[overlap[index]].max())
        boxes.append(pooled[int(np.argmax(np.where(matches, scores, -1.0)))])
    # Two separate candidates can share their latest box once the plumes merge: report it once.
    return Confirmation(
        tuple(dict.fromkeys(boxes)), min(1.0, float(totals[kept[0]]) / window_frames)
    )


class EventConfirmer:
    """Turns the detections of one camera's frames into event transitions."""

    def __init__(self, thresholds: Thresholds, id_factory: Callable[[], UUID] = uuid4) -> None:
        self._thresholds = thresholds
        self._new_id = id_factory
        self._poses: dict[PoseKey, _PoseState] = {}

    def open_events(self) -> int:
        return sum(len(state.events) for state in self._poses.values())

    def update(self, found: FrameDetections) -> list[EventTransition]:
        frame = found.frame
        key = (frame.camera_id, frame.pose_id)
        state = self._poses.get(key)
        if state is None:
            state = _PoseState(deque(maxlen=self._thresholds.window_frames))
            self._poses[key] = state
        state.window.append(found.detections)
        transitions: list[EventTransition] = []
        seen = {d.detection_class for boxes in state.window for d in boxes}
        for detection_class in sorted(seen | set(state.events)):
            transition = self._step(state, frame, detection_class)
            if transition is not None:
                transitions.append(transition)
        return transitions

    def _step(
        self, state: _PoseState, frame: Frame, detection_class: DetectionClass
    ) -> EventTransition | None:
        thresholds = self._thresholds
        event = state.events.get(detection_class)
        threshold = thresholds.confirm_score * (HYSTERESIS_FACTOR if event else 1.0)
        window = [
            tuple(d for d in boxes if d.detection_class is detection_class)
            for boxes in state.window
        ]
        result = confirm(window, window_frames=thresholds.window_frames, threshold=threshold)
        now = frame.captured_at
        if event is None:
            if not result.boxes:
                return None
            event = _OpenEvent(self._new_id(), 0, now, now, result.score, frame)
            state.events[detection_class] = event
            return self._transition(EventState.START, event, frame, detection_class, result)
        event.score = result.score
        event.last_frame = frame
        if result.boxes:
            event.last_confirmed_at = now
            if (now - event.last_emitted_at).total_seconds() < thresholds.update_interval_s:
                return None
            event.sequence += 1
            event.last_emitted_at = now
            return self._transition(EventState.UPDATE, event, frame, detection_class, result)
        if (now - event.last_confirmed_at).total_seconds() < thresholds.end_after_s:
            return None
        del state.events[detection_class]
        event.sequence += 1
        return self._transition(EventState.END, event, frame, detection_class, result)

    @staticmethod
    def _transition(
        state: EventState,
        event: _OpenEvent,
        frame: Frame,
        detection_class: DetectionClass,
        result: Confirmation,
    ) -> EventTransition:
        return EventTransition(
            state=state,
            event_id=event.event_id,
            sequence=event.sequence,
            camera_id=frame.camera_id,
            pose_id=frame.pose_id,
            captured_at=frame.captured_at,
            detection_class=detection_class,
            score=result.score,
            boxes=result.boxes if state is not EventState.END else (),
            frame=frame,
        )

    def flush(self, now: datetime) -> list[EventTransition]:
        """End every open event at ``now`` and forget all windows (shutdown, stream lost).

        The runtime calls it when a camera goes offline: an event must not stay open on central
        while nobody watches, and the next frames start from an empty window.
        """
        transitions: list[EventTransition] = []
        for (camera_id, pose_id), state in sorted(
            self._poses.items(), key=lambda item: (item[0][0], item[0][1] or "")
        ):
            for detection_class, event in sorted(state.events.items()):
                transitions.append(
                    EventTransition(
                        state=EventState.END,
                        event_id=event.event_id,
                        sequence=event.sequence + 1,
                        camera_id=camera_id,
                        pose_id=pose_id,
                        captured_at=now,
                        detection_class=detection_class,
                        score=event.score,
                        boxes=(),
                        frame=event.last_frame,
                    )
                )
        self._poses.clear()
        return transitions
