"""The camera reader: latest frame only, counted skips and corrupt frames, reconnects, frozen."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator

import cv2
import numpy as np
import pytest

from edge.config import Pose
from edge.ingest.reader import CameraReader, FrozenDetector, thumbnail
from edge.ingest.sources import Grab, Image, SourceError
from edge.ptz import FixedMount, Patrol
from edge.runtime.backoff import Backoff
from tests.support.services import SAMPLE_CLIP

FRAME_STEP_S = 0.2  # a 5 fps camera


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def picture(value: int) -> Image:
    image = np.full((48, 64, 3), 40, np.uint8)
    image[:, : value % 64] = 200  # a different picture for every value
    return image


class FakeSource:
    """Plays a script: an image (a frame), None (a corrupt frame), "lost", "open-fails", "end".

    Once the script is over the stream stays open without frames (like a hung camera) until
    ``release`` is set, so the test can look at the reader while it is still connected.
    """

    description = "fake"
    frame_interval_s = None

    def __init__(self, clock: FakeClock, script: Iterable[object]) -> None:
        self.clock = clock
        self.script = list(script)
        self.opens = 0
        self.drained = threading.Event()
        self.release = threading.Event()
        self._current: Image | None = None

    def open(self) -> None:
        self.opens += 1
        if self.script and isinstance(self.script[0], str) and self.script[0] == "open-fails":
            self.script.pop(0)
            raise SourceError("refused")

    def grab(self) -> Grab:
        if not self.script:
            self.drained.set()
            # Held open until teardown (then at once): a hold that ran out while the test looks
            # would lose the stream under it.
            self.release.wait(60)
            return Grab.LOST
        step = self.script.pop(0)
        if isinstance(step, str) and step == "end":
            self.drained.set()
            return Grab.ENDED
        if isinstance(step, str):
            return Grab.LOST
        self.clock.now_s += FRAME_STEP_S
        self._current = step  # type: ignore[assignment]
        return Grab.FRAME

    def retrieve(self) -> Image | None:
        return self._current

    def close(self) -> None:
        pass


@contextlib.contextmanager
def reading(
    script: Iterable[object],
    *,
    sample_interval_s: float = 1.0,
    frozen_after_s: float = 60.0,
    poses: list[Pose] | None = None,
    wait: bool = True,
) -> Iterator[tuple[CameraReader, FakeSource, FakeClock]]:
    """A reader in its thread, handed over once its source has played the whole script."""
    clock = FakeClock()
    source = FakeSource(clock, script)
    stop = threading.Event()
    reader = CameraReader(
        "cam",
        source,
        Patrol("cam", poses or [], FixedMount()),
        stop,
        sample_interval_s=sample_interval_s,
        frozen_after_s=frozen_after_s,
        backoff=Backoff(initial_s=0.001, max_s=0.001),
        clock=clock,
    )
    thread = threading.Thread(target=reader.run)
    thread.start()
    try:
        if wait:
            # Milliseconds here; a generous bound, and a clear failure instead of half a script.
            assert source.drained.wait(30), "the reader did not play its whole script"
        yield reader, source, clock
    finally:
        stop.set()
        source.release.set()
        thread.join(5)


def test_only_the_latest_sampled_frame_is_handed_over_and_the_rest_counted() -> None:
    # 10 frames at 5 fps, one decoded per second: frames 1 and 6 are sampled, the
    # newest of them waits in the slot, the other 9 are skipped.
    with reading([picture(i) for i in range(10)]) as (reader, _, _):
        frame = reader.take()
        again = reader.take()
        stats = reader.stats()
    assert frame is not None
    assert frame.sequence == 2
    assert np.array_equal(frame.image, picture(5))
    assert frame.captured_at.tzinfo is not None
    assert again is None  # taken once
    assert (stats.frames_read, stats.skipped_frames, stats.corrupt_frames) == (10, 9, 0)
    assert stats.connected


def test_a_replay_that_ends_is_offline_for_good() -> None:
    with reading([picture(1), "end"]) as (reader, _, _):
        stats = reader.stats()
    assert stats.ended
    assert not stats.connected
    assert stats.reason == "replay ended"


def test_corrupt_frames_are_counted_and_never_handed_over() -> None:
    with reading([None, None, picture(1)], sample_interval_s=0.1) as (reader, _, _):
        stats = reader.stats()
        frame = reader.take()
    assert stats.corrupt_frames == 2
    assert frame is not None
    assert np.array_equal(frame.image, picture(1))


def test_a_lost_stream_is_reopened_and_counted_as_a_reconnect() -> None:
    with reading([picture(1), "lost", "open-fails", picture(2)]) as (reader, source, _):
        stats = reader.stats()
    assert source.opens == 3  # first open, failed reopen, successful reopen
    assert stats.reconnects == 1
    assert stats.connected


def test_a_camera_that_cannot_be_opened_says_why() -> None:
    with reading(["open-fails"] * 1000, wait=False) as (reader, source, _):
        while source.opens < 3:
            time.sleep(0.01)
        stats = reader.stats()
    assert not stats.connected
    assert stats.reason == "cannot open: refused"
    assert stats.last_frame_age_s is None


def test_identical_pictures_mark_the_camera_frozen_but_are_still_analysed() -> None:
    # 50 identical frames = 10 s at 5 fps, frozen after 3 s.
    script = [picture(7)] * 50
    with reading(script, sample_interval_s=0.2, frozen_after_s=3.0) as (reader, _, _):
        stats = reader.stats()
        taken = reader.take()
    assert stats.frozen
    assert stats.reason == "frozen: picture unchanged for 3 s or more"
    assert taken is not None
    assert taken.sequence == 50


def test_a_changing_picture_unfreezes() -> None:
    script = [picture(7)] * 30 + [picture(i) for i in range(10)]
    with reading(script, sample_interval_s=0.2, frozen_after_s=3.0) as (reader, _, _):
        stats = reader.stats()
    assert not stats.frozen
    assert stats.reason == ""


def test_a_connected_stream_without_frames_is_stalled() -> None:
    with reading([picture(1)], frozen_after_s=30.0) as (reader, _, clock):
        clock.now_s += 29.0
        before = reader.stats()
        clock.now_s += 2.0
        after = reader.stats()
    assert not before.frozen
    assert after.frozen
    assert after.reason == "stalled: no frame for 30 s or more"


def test_frames_are_tagged_with_the_patrol_pose_and_dropped_while_settling() -> None:
    poses = [Pose(id="north", heading_deg=0, settle_s=1.0, dwell_s=100)]
    # The first grab moves the camera; the frames of the next 1 s are settling.
    with reading([picture(i) for i in range(5)], sample_interval_s=0.1, poses=poses) as (r, _, _):
        settling = r.take()
        skipped = r.stats().skipped_frames
    with reading([picture(i) for i in range(8)], sample_interval_s=0.1, poses=poses) as (r, _, _):
        settled = r.take()
    assert settling is None
    assert skipped == 5
    assert settled is not None
    assert settled.pose_id == "north"


@pytest.mark.parametrize(
    ("pictures", "frozen"),
    [
        # The same picture again and again: frozen once 3 s have passed.
        ([0, 0, 0, 0, 0], True),
        # Still the same at 2 s: not yet.
        ([0, 0, 0], False),
        # A change resets the clock.
        ([0, 0, 0, 5, 5, 5], False),
        ([0, 0, 0, 5, 5, 5, 5, 5], True),
    ],
)
def test_frozen_detector(pictures: list[int], frozen: bool) -> None:
    detector = FrozenDetector(frozen_after_s=3.0)
    results = [detector.observe(thumbnail(picture(v)), float(t)) for t, v in enumerate(pictures)]
    assert results[-1] is frozen


def test_sensor_noise_is_not_frozen_but_re_encoded_repeats_are() -> None:
    # The committed clip shows each real camera image for 5 frames: H.264 re-encodes it, with
    # drift, like a camera whose sensor froze behind a working encoder.
    capture = cv2.VideoCapture(str(SAMPLE_CLIP))
    repeats = [capture.read()[1] for _ in range(5)]
    capture.release()
    detector = FrozenDetector(frozen_after_s=3.0)
    assert [detector.observe(thumbnail(image), float(t)) for t, image in enumerate(repeats)] == [
        False,
        False,
        False,
        True,
        True,
    ]
    # The same picture with live sensor noise (sigma 3 grey levels at 640x480) is not frozen.
    rng = np.random.default_rng(1)
    detector = FrozenDetector(frozen_after_s=3.0)
    for t in range(6):
        noisy = np.clip(repeats[0] + rng.normal(0, 3.0, repeats[0].shape), 0, 255)
        assert not detector.observe(thumbnail(noisy.astype(np.uint8)), float(t))
