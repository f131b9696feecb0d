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
One event per plume: each confirmed box that overlaps no open event of its pose and class starts
one, so that two fires in one view reach central as two events, each with its own bearing.
Lifecycle per event: ``start`` when first confirmed, ``update`` (with its plume's latest box) at
most every ``update_interval_s`` while a confirmed box overlaps its last one, ``end`` once none
did for ``end_after_s``.
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
    boxes: tuple[Detection, ...]  # empty: nothing confirmed; strongest plume first
    score: float  # of the strongest plume (the best unconfirmed one when none is)
    scores: tuple[float, ...] = ()  # of each box's plume: window mean, in [0, 1]


@dataclass(slots=True)
class _OpenEvent:
    event_id: UUID
    sequence: int
    last_confirmed_at: datetime
    last_emitted_at: datetime
    score: float
    box: Detection  # where its plume was last confirmed: the next confirmation must overlap it
    # Kept for ``flush``: its end needs the pose's image size. Only open events hold a frame, so
    # a patrolling camera does not keep one 6 MB image per pose.
    last_frame: Frame


@dataclass(slots=True)
class _PoseState:
    window: deque[tuple[Detection, ...]]
    # Per class, the open events in the order they started.
    events: dict[DetectionClass, list[_OpenEvent]] = field(default_factory=dict)


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
    plumes: dict[Detection, float] = {}
    for index in kept:
        # Report each plume where it is now: its best box in the most recent frame that has one.
        matches = overlap[index] & (frame_of == frame_of[overlap[index]].max())
        box = pooled[int(np.argmax(np.where(matches, scores, -1.0)))]
        # Two separate candidates can share their latest box once the plumes merge: report it
        # once, with the stronger candidate's score (``kept`` is strongest first).
        plumes.setdefault(box, min(1.0, float(totals[index]) / window_frames))
    return Confirmation(tuple(plumes), next(iter(plumes.values())), tuple(plumes.values()))


def _overlap(a: Detection, b: Detection) -> bool:
    corners = np.array([(d.x_min, d.y_min, d.x_max, d.y_max) for d in (a, b)])
    return bool(_overlaps(corners[:1], corners[1:])[0, 0])


class EventConfirmer:
    """Turns the detections of one camera's frames into event transitions."""

    def __init__(self, thresholds: Thresholds, id_factory: Callable[[], UUID] = uuid4) -> None:
        self._thresholds = thresholds
        self._new_id = id_factory
        self._poses: dict[PoseKey, _PoseState] = {}

    def open_events(self) -> int:
        return sum(
            len(events) for state in self._poses.values() for events in state.events.values()
        )

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
            transitions += self._step(state, frame, detection_class)
        return transitions

    def _step(
        self, state: _PoseState, frame: Frame, detection_class: DetectionClass
    ) -> list[EventTransition]:
        thresholds = self._thresholds
        events = state.events.get(detection_class, [])
        window = [
            tuple(d for d in boxes if d.detection_class is detection_class)
            for boxes in state.window
        ]
        strict = confirm(
            window, window_frames=thresholds.window_frames, threshold=thresholds.confirm_score
        )
        # Open events go on at the relaxed threshold (hysteresis); new plumes need the full one.
        relaxed = strict
        if events:
            relaxed = confirm(
                window,
                window_frames=thresholds.window_frames,
                threshold=thresholds.confirm_score * HYSTERESIS_FACTOR,
            )
        now = frame.captured_at
        transitions = []
        taken: set[Detection] = set()
        for event in list(events):
            event.last_frame = frame
            found = [
                (box, score)
                for box, score in zip(relaxed.boxes, relaxed.scores, strict=True)
                if box not in taken and _overlap(box, event.box)
            ]
            if found:
                box, event.score = max(found, key=lambda pair: pair[1])
                taken.add(box)
                event.box = box
                event.last_confirmed_at = now
                if (now - event.last_emitted_at).total_seconds() >= thresholds.update_interval_s:
                    event.sequence += 1
                    event.last_emitted_at = now
                    transitions.append(
                        self._transition(EventState.UPDATE, event, frame, detection_class)
                    )
            elif (now - event.last_confirmed_at).total_seconds() >= thresholds.end_after_s:
                events.remove(event)
                event.sequence += 1
                transitions.append(self._transition(EventState.END, event, frame, detection_class))
        for box, score in zip(strict.boxes, strict.scores, strict=True):
            if box in taken or any(_overlap(box, event.box) for event in events):
                continue  # part of a plume an event already follows
            event = _OpenEvent(self._new_id(), 0, now, now, score, box, frame)
            events.append(event)
            transitions.append(self._transition(EventState.START, event, frame, detection_class))
        if events:
            state.events[detection_class] = events
        else:
            state.events.pop(detection_class, None)
        return transitions

    @staticmethod
    def _transition(
        state: EventState, event: _OpenEvent, frame: Frame, detection_class: DetectionClass
    ) -> EventTransition:
        return EventTransition(
            state=state,
            event_id=event.event_id,
            sequence=event.sequence,
            camera_id=frame.camera_id,
            pose_id=frame.pose_id,
            captured_at=frame.captured_at,
            detection_class=detection_class,
            score=event.score,
            boxes=(event.box,) if state is not EventState.END else (),
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
            for detection_class, events in sorted(state.events.items()):
                transitions += (
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
                    for event in events
                )
        self._poses.clear()
        return transitions
