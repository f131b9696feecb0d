"""The inference loop: due frames of all cameras -> one detector call -> per-camera pipeline -> outbox.

Each camera is analysed at its own cadence (one frame every ``cadence_s``); the frames of the
cameras that are due together go through the shared detector as one batch. Per camera the
pipeline is pure: filters -> temporal confirmation -> wire alert. Every alert is committed to the
durable outbox before anything tries to publish it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from contracts import AlertMessage, CameraState, ModelInfo
from edge import config
from edge.alerts.builder import build_alert
from edge.detect import Detector, DetectorInputError
from edge.events.confirmation import EventConfirmer, EventTransition
from edge.events.filters import filter_detections
from edge.messages import Frame, FrameDetections
from edge.publish.outbox import Outbox
from edge.runtime.health import CameraMonitor

logger = logging.getLogger(__name__)

# Longest sleep of the loop when nothing is due: bounds how late a frame that arrives after its
# due time is picked up (and how fast the loop sees ``stop``).
POLL_S = 0.05


class FrameFeed(Protocol):
    """What the loop needs from a camera reader (``edge.ingest.reader.CameraReader``)."""

    def take(self) -> Frame | None: ...


class CameraPipeline:
    """Filters -> confirmation -> alert builder for one camera; no I/O."""

    def __init__(self, site: config.Site, camera: config.Camera, model: ModelInfo) -> None:
        self.site = site
        self.camera = camera
        self._model = model
        self._poses = {pose.id: pose for pose in camera.poses}
        self._confirmer = EventConfirmer(camera.thresholds)

    def open_events(self) -> int:
        return self._confirmer.open_events()

    def process(self, found: FrameDetections) -> list[AlertMessage]:
        """The alerts (start/update/end) this frame's detections cause, usually none."""
        pose = self._pose(found.frame.pose_id)
        thresholds = self.camera.thresholds
        kept = filter_detections(
            found.detections,
            masks=[*self.camera.masks, *(pose.masks if pose else [])],
            max_box_width_fraction=thresholds.max_box_width_fraction,
            score_floor=thresholds.detection_score,
        )
        transitions = self._confirmer.update(FrameDetections(found.frame, kept, found.timings))
        return self._alerts(transitions)

    def flush(self, now: datetime) -> list[AlertMessage]:
        """End every open event (the camera went blind, or the worker stops)."""
        return self._alerts(self._confirmer.flush(now))

    def _pose(self, pose_id: str | None) -> config.Pose | None:
        return self._poses.get(pose_id) if pose_id is not None else None

    def _alerts(self, transitions: Sequence[EventTransition]) -> list[AlertMessage]:
        alerts = []
        for transition in transitions:
            try:
                alerts.append(
                    build_alert(
                        transition,
                        site=self.site,
                        camera=self.camera,
                        pose=self._pose(transition.pose_id),
                        model=self._model,
                    )
                )
            except ValueError as error:
                # A transition the contract refuses is a bug upstream: lose this alert only.
                logger.error(
                    "camera %s: cannot build %s alert of event %s: %s",
                    self.camera.id,
                    transition.state.value,
                    transition.event_id,
                    error,
                )
        return alerts


@dataclass(slots=True)
class CameraLane:
    """One camera as the loop sees it: where frames come from, its pipeline and its health."""

    reader: FrameFeed
    pipeline: CameraPipeline
    monitor: CameraMonitor
    next_due_s: float = 0.0
    unusable_since_s: float | None = field(default=None)

    @property
    def cadence_s(self) -> float:
        return self.pipeline.camera.cadence_s


class InferenceLoop:
    """Runs in one thread; ``run`` returns when ``stop`` is set, after ending open events."""

    def __init__(
        self,
        lanes: Sequence[CameraLane],
        detector: Detector,
        outbox: Outbox,
        stop: threading.Event,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lanes = list(lanes)
        self._detector = detector
        self._outbox = outbox
        self._stop = stop
        self._clock = clock
        self.detector_failures = 0
        self.store_failures = 0

    def run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self.step():
                    self._stop.wait(self._idle_wait_s())
        finally:
            for lane in self._lanes:
                self._store(lane.pipeline.flush(datetime.now(UTC)))

    def step(self) -> bool:
        """One pass: end the events of blind cameras, then analyse the frames that are due and
        ready; returns whether there were any."""
        self._end_events_of_blind_cameras()
        now_s = self._clock()
        batch: list[tuple[CameraLane, Frame]] = []
        for lane in self._lanes:
            if now_s < lane.next_due_s:
                continue
            frame = lane.reader.take()
            if frame is None:
                continue
            lane.next_due_s += lane.cadence_s
            if lane.next_due_s <= now_s:  # behind (first frame, slow detector): no catching up
                lane.next_due_s = now_s + lane.cadence_s
            batch.append((lane, frame))
        if not batch:
            return False
        lane_of = {id(frame): lane for lane, frame in batch}
        started_s = time.perf_counter()
        results = self._detect([frame for _, frame in batch])
        share_ms = (time.perf_counter() - started_s) * 1000.0 / len(batch)
        for found in results:
            lane = lane_of[id(found.frame)]
            lane.monitor.record_analysis(found.timings.inference_ms if found.timings else share_ms)
            self._store(lane.pipeline.process(found))
        return True

    def _detect(self, frames: list[Frame]) -> list[FrameDetections]:
        while frames:
            try:
                return self._detector.detect(frames)
            except DetectorInputError as error:
                logger.warning("dropping a frame the detector refuses: %s", error)
                frames = [frame for frame in frames if frame is not error.frame]
            except Exception:
                # A failing detector must not stop the loop: these frames are lost (counted in
                # detector_failures, logged with the traceback), the next ones are tried.
                self.detector_failures += 1
                logger.exception("detector failed on %d frames", len(frames))
                return []
        return []

    def _store(self, alerts: Sequence[AlertMessage]) -> None:
        for alert in alerts:
            try:
                self._outbox.put(alert)
            except sqlite3.Error as error:
                # Disk full or failing: this alert is lost, detection goes on (a crash loop
                # would lose every later alert too). Counted, and logged loudly.
                self.store_failures += 1
                logger.error(
                    "camera %s: cannot store %s alert %s: %s",
                    alert.camera_id,
                    alert.state.value,
                    alert.alert_id,
                    error,
                )
                continue
            logger.info(
                "camera %s: %s alert %s of event %s (score %.2f)",
                alert.camera_id,
                alert.state.value,
                alert.alert_id,
                alert.event_id,
                alert.score,
            )

    def _end_events_of_blind_cameras(self) -> None:
        """A camera without usable frames for ``end_after_s`` ends its events: nobody watches.

        The confirmer only sees time through frames, so without this an event would stay open
        on central for as long as the camera is down.
        """
        now_s = self._clock()
        for lane in self._lanes:
            state, _ = lane.monitor.state()
            if state is CameraState.ONLINE:
                lane.unusable_since_s = None
                continue
            if lane.unusable_since_s is None:
                lane.unusable_since_s = now_s
            end_after_s = lane.pipeline.camera.thresholds.end_after_s
            if now_s - lane.unusable_since_s >= end_after_s and lane.pipeline.open_events():
                self._store(lane.pipeline.flush(datetime.now(UTC)))

    def _idle_wait_s(self) -> float:
        wait_s = min((lane.next_due_s for lane in self._lanes), default=0.0) - self._clock()
        return POLL_S if wait_s <= 0 else min(POLL_S, wait_s)
