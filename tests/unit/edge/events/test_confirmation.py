from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import numpy as np
import pytest

from contracts import EventState
from edge.config import Thresholds
from edge.events.confirmation import EventConfirmer, EventTransition, confirm
from edge.messages import Detection, DetectionClass, Frame, FrameDetections

T0 = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
CADENCE_S = 10
IMAGE = np.zeros((48, 64, 3), np.uint8)
START, UPDATE, END = EventState.START, EventState.UPDATE, EventState.END
SMOKE, FIRE = DetectionClass.SMOKE, DetectionClass.FIRE

# N = 4 frames, start needs 2 frames with overlapping boxes summing to 0.6.
BASE = Thresholds(window_frames=4, confirm_score=0.6, update_interval_s=30, end_after_s=25)
# One unconfirmed frame ends an event at once (end_after_s < cadence), to isolate hysteresis.
STRICT = Thresholds(window_frames=4, confirm_score=1.6, update_interval_s=1000, end_after_s=5)


def plume(score: float, jitter: float = 0.0, cls: DetectionClass = SMOKE) -> Detection:
    return Detection(0.40 + jitter, 0.30, 0.50 + jitter, 0.42, score, cls)


def frame(index: int, pose_id: str | None = None, camera_id: str = "cam-1") -> Frame:
    return Frame(camera_id, pose_id, index, T0 + timedelta(seconds=CADENCE_S * index), IMAGE)


def run(
    thresholds: Thresholds, scores: Sequence[float | None]
) -> list[tuple[int, EventState, int]]:
    """Feed one box per frame (None: no box); return (frame index, state, sequence) per step."""
    confirmer = EventConfirmer(thresholds)
    steps = []
    for index, score in enumerate(scores):
        jitter = 0.003 * (index % 3)  # detector boxes move a little between frames
        found = () if score is None else (plume(score, jitter),)
        for transition in confirmer.update(FrameDetections(frame(index), found)):
            steps.append((index, transition.state, transition.sequence))
    return steps


_ = None
TABLES = {
    # Smoke from frame 3 to 9: the window confirms at frame 4 (two frames, 0.5 + 0.5 >= 0.6),
    # updates every 30 s (frames 7 and 10), the last confirmation is frame 11 (frames 8 and 9
    # still in the window) and the end comes 30 s >= 25 s later.
    "lifecycle": (
        BASE,
        [_, _, _, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, _, _, _, _, _, _],
        [(4, START, 0), (7, UPDATE, 1), (10, UPDATE, 2), (14, END, 3)],
    ),
    "ten frames, smoke from frame 3": (
        BASE,
        [_, _, _, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
        [(4, START, 0), (7, UPDATE, 1)],
    ),
    "negative": (BASE, [_] * 12, []),
    # One strong box in any window of four frames: never ceil(4/2) = 2 votes.
    "flicker, too rare": (BASE, [0.9, _, _, _] * 4, []),
    # Two votes per window but 0.25 + 0.25 < 0.6.
    "flicker, too weak": (BASE, [0.25, _] * 8, []),
    # 4 x 0.45 = 1.8 >= 1.6 starts at frame 3; frame 4's weak box drops the sum to 1.55, above
    # 0.8 x 1.6 = 1.28, so the open event survives; frame 6 (1.1) ends it.
    "hysteresis keeps the event through a weak frame": (
        STRICT,
        [0.45, 0.45, 0.45, 0.45, 0.2, 0.45, _, _],
        [(3, START, 0), (6, END, 1)],
    ),
    # The same 1.55 window does not start an event that is not open.
    "the relaxed threshold does not start events": (STRICT, [0.45, 0.45, 0.2, 0.45], []),
}


@pytest.mark.parametrize(("thresholds", "scores", "expected"), TABLES.values(), ids=TABLES.keys())
def test_lifecycle_tables(
    thresholds: Thresholds,
    scores: list[float | None],
    expected: list[tuple[int, EventState, int]],
) -> None:
    assert run(thresholds, scores) == expected


def test_transitions_carry_the_event_and_its_latest_box() -> None:
    event_ids = iter([UUID(int=1), UUID(int=2)])
    no_updates = BASE.model_copy(update={"update_interval_s": 1000.0})
    confirmer = EventConfirmer(no_updates, id_factory=lambda: next(event_ids))
    steps: list[EventTransition] = []
    boxes = {index: plume(0.3 + 0.1 * index, jitter=0.01 * index) for index in (3, 4, 5)}
    for index in range(12):
        found = (boxes[index],) if index in boxes else ()
        steps += confirmer.update(FrameDetections(frame(index, pose_id="p-east"), found))
    start, end = steps
    assert start.state is START
    assert start.event_id == end.event_id == UUID(int=1)
    assert (start.camera_id, start.pose_id) == ("cam-1", "p-east")
    assert start.captured_at == T0 + timedelta(seconds=40)
    assert start.frame is not None
    assert start.frame.sequence == 4
    assert start.boxes == (boxes[4],)  # the latest box, not the first one
    assert start.score == pytest.approx((0.6 + 0.7) / 4)  # window mean over N
    assert start.detection_class is SMOKE
    assert end.boxes == ()
    # Last confirmed at frame 7 (frames 4 and 5 in its window); 30 s >= 25 s later: frame 10.
    assert end.frame is not None
    assert end.frame.sequence == 10
    assert end.sequence == 1


def test_a_growing_plume_keeps_overlapping() -> None:
    # Each box contains the previous one; IoU of the first and the third is 0.06.
    growth = [
        Detection(0.50, 0.50, 0.52, 0.52, 0.4, SMOKE),
        Detection(0.49, 0.47, 0.54, 0.52, 0.4, SMOKE),
        Detection(0.48, 0.44, 0.56, 0.52, 0.4, SMOKE),
    ]
    result = confirm([(box,) for box in growth], window_frames=4, threshold=1.2)
    assert result.boxes == (growth[-1],)


def test_duplicate_boxes_in_one_frame_vote_once() -> None:
    duplicates = (plume(0.9), plume(0.9, 0.001), plume(0.9, 0.002))
    assert confirm([duplicates, (), (), ()], window_frames=4, threshold=0.6).boxes == ()
    assert confirm([duplicates, (plume(0.1),)], window_frames=4, threshold=0.6).boxes == (
        plume(0.1),
    )


def test_two_separate_plumes_are_both_reported() -> None:
    east = Detection(0.70, 0.30, 0.75, 0.35, 0.5, SMOKE)
    west = Detection(0.10, 0.30, 0.15, 0.35, 0.6, SMOKE)
    result = confirm([(east, west), (east, west)], window_frames=4, threshold=0.6)
    assert result.boxes == (west, east)  # strongest first
    assert result.score == pytest.approx(1.2 / 4)


def test_poses_have_their_own_windows() -> None:
    # A PTZ patrol alternates poses: smoke in "east" only must confirm on east's own frames.
    confirmer = EventConfirmer(BASE)
    steps = []
    for index in range(6):
        pose = "east" if index % 2 == 0 else "west"
        found = (plume(0.5),) if pose == "east" else ()
        steps += confirmer.update(FrameDetections(frame(index, pose_id=pose), found))
    assert [(s.state, s.pose_id, s.frame.sequence if s.frame else None) for s in steps] == [
        (START, "east", 2)
    ]


def test_classes_are_separate_events() -> None:
    confirmer = EventConfirmer(BASE)
    fire = Detection(0.1, 0.6, 0.2, 0.7, 0.5, FIRE)
    steps = []
    for index in range(2):
        steps += confirmer.update(FrameDetections(frame(index), (plume(0.5), fire)))
    assert sorted((s.state, s.detection_class) for s in steps) == [(START, FIRE), (START, SMOKE)]
    assert steps[0].event_id != steps[1].event_id
    assert confirmer.open_events() == 2


def test_flush_ends_open_events_and_forgets_the_windows() -> None:
    confirmer = EventConfirmer(BASE)
    [start] = [
        t for i in range(2) for t in confirmer.update(FrameDetections(frame(i), (plume(0.5),)))
    ]
    shutdown = T0 + timedelta(minutes=5)
    [end] = confirmer.flush(shutdown)
    assert (end.state, end.event_id, end.sequence, end.captured_at) == (
        END,
        start.event_id,
        1,
        shutdown,
    )
    assert end.frame is not None
    assert end.frame.sequence == 1
    assert confirmer.open_events() == 0
    assert confirmer.flush(shutdown) == []
    # The window restarted empty: one more frame alone does not confirm.
    assert confirmer.update(FrameDetections(frame(2), (plume(0.5),))) == []


def test_each_plume_is_its_own_event() -> None:
    """Two fires in one view: two events, each with its own box, ending on their own."""
    east = Detection(0.70, 0.30, 0.75, 0.35, 0.5, SMOKE)
    west = Detection(0.10, 0.30, 0.15, 0.35, 0.6, SMOKE)
    confirmer = EventConfirmer(BASE)
    steps: list[tuple[int, EventState, tuple[Detection, ...], UUID]] = []
    # West burns from frame 0 to 9; east shows up at frame 3, while west's event is open.
    for index in range(16):
        found = ((west,) if index < 10 else ()) + ((east,) if index >= 3 else ())
        for t in confirmer.update(FrameDetections(frame(index), found)):
            steps.append((index, t.state, t.boxes, t.event_id))
    [west_id, east_id] = [e for _, state, _, e in steps if state is START]
    assert west_id != east_id
    assert [(i, s, b) for i, s, b, e in steps if e == west_id] == [
        # as the single plume of the lifecycle table, three frames earlier
        (1, START, (west,)),
        (4, UPDATE, (west,)),
        (7, UPDATE, (west,)),
        (10, UPDATE, (west,)),
        (14, END, ()),
    ]
    assert [(i, s, b) for i, s, b, e in steps if e == east_id] == [
        (4, START, (east,)),
        (7, UPDATE, (east,)),
        (10, UPDATE, (east,)),
        (13, UPDATE, (east,)),
    ]
    assert confirmer.open_events() == 1
    [end] = confirmer.flush(T0 + timedelta(minutes=5))
    assert (end.state, end.event_id) == (END, east_id)


def test_a_plume_that_drifts_stays_one_event() -> None:
    confirmer = EventConfirmer(BASE)
    started = []
    for index in range(12):
        # 0.01 of the frame per frame to the east: each box overlaps the one before
        drifting = Detection(0.40 + 0.01 * index, 0.30, 0.50 + 0.01 * index, 0.42, 0.5, SMOKE)
        started += [
            t
            for t in confirmer.update(FrameDetections(frame(index), (drifting,)))
            if t.state is START
        ]
    assert len(started) == 1
    assert confirmer.open_events() == 1
