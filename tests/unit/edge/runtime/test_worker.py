"""The inference loop: cadence per camera, batching, a camera pipeline from boxes to alerts."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from contracts import CameraState, EventState
from edge.config import Camera, Site, Thresholds, VideoFileSource
from edge.detect import DetectorInputError
from edge.detect.scripted import ScriptedDetector
from edge.ingest.reader import ReaderStats
from edge.messages import Detection, DetectionClass, Frame, FrameDetections
from edge.publish.outbox import Outbox
from edge.runtime.health import CameraMonitor
from edge.runtime.worker import CameraLane, CameraPipeline, InferenceLoop
from tests.unit.edge.runtime.factories import MODEL, T0

SITE = Site(id="site", latitude_deg=43.7, longitude_deg=7.0, ground_altitude_m=800)
PLUME = Detection(0.40, 0.30, 0.46, 0.38, 0.9, DetectionClass.SMOKE)
THRESHOLDS = Thresholds(
    detection_score=0.2,
    window_frames=2,
    confirm_score=0.5,
    update_interval_s=2.0,
    end_after_s=3.0,
)


def camera(camera_id: str = "cam-a", cadence_s: float = 1.0) -> Camera:
    return Camera(
        id=camera_id,
        source=VideoFileSource(kind="video", path=Path("clip.mp4")),
        heading_deg=60,
        hfov_deg=87,
        vfov_deg=44,
        cadence_s=cadence_s,
        thresholds=THRESHOLDS,
    )


def frame(camera_id: str, second: int) -> Frame:
    image = np.full((120, 160, 3), 70, np.uint8)
    return Frame(camera_id, None, second, T0 + timedelta(seconds=second), image)


def run_pipeline(boxes_per_frame: Sequence[Sequence[Detection]]) -> list[tuple[str, int]]:
    pipeline = CameraPipeline(SITE, camera(), MODEL)
    alerts = []
    for second, boxes in enumerate(boxes_per_frame, start=1):
        alerts += pipeline.process(FrameDetections(frame("cam-a", second), tuple(boxes)))
    return [(alert.state.value, alert.sequence) for alert in alerts]


def test_smoke_gives_one_start_updates_at_the_rate_and_one_end() -> None:
    # Smoke on frames 1-6 (one per second), then nothing.
    steps = run_pipeline([[PLUME]] * 6 + [[]] * 6)
    assert steps == [("start", 0), ("update", 1), ("update", 2), ("update", 3), ("end", 4)]


def test_negatives_give_nothing() -> None:
    weak = Detection(0.40, 0.30, 0.46, 0.38, 0.1, DetectionClass.SMOKE)  # under the floor
    too_wide = Detection(0.0, 0.30, 0.9, 0.38, 0.9, DetectionClass.SMOKE)  # 90% of the width
    assert run_pipeline([[]] * 5 + [[weak]] * 5 + [[too_wide]] * 5) == []


def test_alerts_carry_snapshots_except_the_end() -> None:
    pipeline = CameraPipeline(SITE, camera(), MODEL)
    alerts = []
    for second, boxes in enumerate([[PLUME]] * 3 + [[]] * 5, start=1):
        alerts += pipeline.process(FrameDetections(frame("cam-a", second), tuple(boxes)))
    assert [len(alert.snapshots) for alert in alerts] == [2, 2, 0]  # start, update, end
    assert alerts[0].camera.azimuth_deg == 60


class FakeFeed:
    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self.second = 0
        self.ready = True

    def take(self) -> Frame | None:
        if not self.ready:
            return None
        self.second += 1
        return frame(self.camera_id, self.second)


class FixedStats:
    def __init__(self) -> None:
        self.current = ReaderStats(True, False, 0, 0, 0, 0, 0.1, False, "")

    def stats(self) -> ReaderStats:
        return self.current


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


class CountingDetector(ScriptedDetector):
    def __init__(self, boxes: Sequence[Detection] = ()) -> None:
        super().__init__(lambda _frame: boxes)
        self.batches: list[list[str]] = []

    def detect(self, frames: Sequence[Frame]) -> list[FrameDetections]:
        self.batches.append([f.camera_id for f in frames])
        return super().detect(frames)


@dataclass
class Rig:
    loop: InferenceLoop
    lanes: list[CameraLane]
    feeds: list[FakeFeed]
    stats: list[FixedStats]
    clock: FakeClock
    outbox: Outbox
    stop: threading.Event


def make_loop(tmp_path: Path, detector: ScriptedDetector, cadences: dict[str, float]) -> Rig:
    clock = FakeClock()
    lanes, feeds, all_stats = [], [], []
    for camera_id, cadence_s in cadences.items():
        stats = FixedStats()
        feed = FakeFeed(camera_id)
        monitor = CameraMonitor(
            "site", camera_id, stats, interval_s=10, stale_after_s=2, clock=clock
        )
        pipeline = CameraPipeline(SITE, camera(camera_id, cadence_s), MODEL)
        lanes.append(CameraLane(feed, pipeline, monitor))
        feeds.append(feed)
        all_stats.append(stats)
    outbox = Outbox(tmp_path / "outbox.sqlite3", max_alerts=100)
    stop = threading.Event()
    loop = InferenceLoop(lanes, detector, outbox, stop, clock=clock)
    return Rig(loop, lanes, feeds, all_stats, clock, outbox, stop)


def test_each_camera_is_analysed_at_its_cadence_and_due_frames_are_batched(
    tmp_path: Path,
) -> None:
    detector = CountingDetector()
    rig = make_loop(tmp_path, detector, {"cam-a": 2.0, "cam-b": 4.0})
    for _ in range(9):  # 8 s, a step every second
        rig.loop.step()
        rig.clock.now_s += 1.0
    assert detector.batches == [
        ["cam-a", "cam-b"],  # t=0: both due, one batch
        ["cam-a"],  # t=2
        ["cam-a", "cam-b"],  # t=4
        ["cam-a"],  # t=6
        ["cam-a", "cam-b"],  # t=8
    ]


def test_a_late_frame_is_taken_when_it_arrives_without_catching_up(tmp_path: Path) -> None:
    detector = CountingDetector()
    rig = make_loop(tmp_path, detector, {"cam-a": 2.0})
    assert rig.loop.step()  # t=0
    rig.feeds[0].ready = False
    rig.clock.now_s += 5.0  # the camera gave nothing for 5 s
    assert not rig.loop.step()
    rig.feeds[0].ready = True
    rig.clock.now_s += 0.5
    assert rig.loop.step()  # taken at once...
    rig.clock.now_s += 0.5
    assert not rig.loop.step()  # ...and the next one is a full cadence later, not at once
    assert len(detector.batches) == 2


def test_alerts_are_written_to_the_outbox(tmp_path: Path) -> None:
    rig = make_loop(tmp_path, CountingDetector([PLUME]), {"cam-a": 1.0})
    rig.loop.step()
    assert [row.state for row in rig.outbox.pending()] == [EventState.START]


def test_a_refused_frame_is_dropped_and_the_others_still_run(tmp_path: Path) -> None:
    class Picky(CountingDetector):
        def detect(self, frames: Sequence[Frame]) -> list[FrameDetections]:
            for candidate in frames:
                if candidate.camera_id == "cam-b":
                    raise DetectorInputError(candidate, "bad")
            return super().detect(frames)

    detector = Picky([PLUME])
    rig = make_loop(tmp_path, detector, {"cam-a": 1.0, "cam-b": 1.0})
    rig.loop.step()
    assert detector.batches == [["cam-a"]]
    assert [row.camera_id for row in rig.outbox.pending()] == ["cam-a"]


def test_a_failing_detector_does_not_stop_the_loop(tmp_path: Path) -> None:
    class Broken(CountingDetector):
        def detect(self, frames: Sequence[Frame]) -> list[FrameDetections]:
            raise RuntimeError("onnxruntime failed")

    rig = make_loop(tmp_path, Broken(), {"cam-a": 1.0})
    assert rig.loop.step()
    rig.clock.now_s += 1.0
    assert rig.loop.step()
    assert rig.loop.detector_failures == 2


@pytest.mark.parametrize(("blind_for_s", "ended"), [(2.0, False), (3.5, True)])
def test_a_camera_blind_for_end_after_s_ends_its_events(
    tmp_path: Path, blind_for_s: float, ended: bool
) -> None:
    rig = make_loop(tmp_path, CountingDetector([PLUME]), {"cam-a": 1.0})
    rig.loop.step()  # start
    rig.stats[0].current = ReaderStats(False, False, 0, 0, 0, 1, None, False, "stream lost")
    rig.feeds[0].ready = False
    rig.lanes[0].monitor.tick()
    assert rig.lanes[0].monitor.state()[0] is CameraState.OFFLINE
    rig.loop.step()
    rig.clock.now_s += blind_for_s
    rig.loop.step()
    states = [row.state for row in rig.outbox.pending()]
    assert states == ([EventState.START, EventState.END] if ended else [EventState.START])


def test_stopping_ends_open_events(tmp_path: Path) -> None:
    rig = make_loop(tmp_path, CountingDetector([PLUME]), {"cam-a": 1.0})
    rig.loop.step()
    rig.stop.set()
    rig.loop.run()
    assert [row.state for row in rig.outbox.pending()] == [EventState.START, EventState.END]


def test_an_outbox_that_cannot_write_loses_the_alert_not_the_loop(tmp_path: Path) -> None:
    rig = make_loop(tmp_path, CountingDetector([PLUME]), {"cam-a": 1.0})
    rig.outbox.close()  # every write now fails, as on a full or dead disk
    assert rig.loop.step()
    rig.clock.now_s += 1.0
    assert rig.loop.step()
    assert rig.loop.store_failures == 1  # the start; the next frame only continues the event
