"""One reader thread per camera: keeps the latest frame, reconnects, detects frozen streams.

The reader grabs every frame the source delivers so it always sits at the live edge of the stream
(no backlog builds up behind a slow detector), decodes about one frame per ``sample_interval_s``
into a one-slot mailbox and counts every frame it does not hand over as skipped. Frames are
stamped in UTC when they come off the stream. A lost stream is closed and reopened with capped
exponential backoff; health counters are read by other threads through ``stats()``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import cv2
import numpy as np
import numpy.typing as npt

from edge.ingest.sources import FrameSource, Grab, Image, SourceError
from edge.messages import Frame
from edge.ptz import Patrol
from edge.runtime.backoff import Backoff

logger = logging.getLogger(__name__)

# Frozen detection compares consecutive sampled frames as 64 x 48 grey thumbnails (area
# average) and calls the camera frozen when every change stayed under 0.1 grey level (of 255) for
# ``frozen_after_s``. Measured: the repeated frames of the committed H.264 sample clip differ by
# 0.003-0.054 (re-encoding drift), a JPEG re-encoded at another quality by 0.03-0.04, and x264
# re-quantises one still picture by 0.1-0.35 for its first seconds, then repeats it exactly. A
# static scene with sensor noise sigma 1-3 differs by 0.09-0.21 at 640x480 but only 0.03-0.08 at
# 1080p, where it is the scene (light, clouds, the camera's clock overlay) that shows life. Hence
# ``frozen_after_s`` (60 s by default) must exceed the longest time a live picture stays still.
FROZEN_THUMBNAIL_PX = (64, 48)
FROZEN_EPSILON_LEVELS = 0.1


def thumbnail(image: Image) -> npt.NDArray[np.float32]:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, FROZEN_THUMBNAIL_PX, interpolation=cv2.INTER_AREA)
    result: npt.NDArray[np.float32] = small.astype(np.float32)
    return result


class FrozenDetector:
    """Frozen when the sampled pictures stayed near-identical for at least ``frozen_after_s``."""

    def __init__(
        self, frozen_after_s: float, epsilon_levels: float = FROZEN_EPSILON_LEVELS
    ) -> None:
        self._frozen_after_s = frozen_after_s
        self._epsilon = epsilon_levels
        self._previous: npt.NDArray[np.float32] | None = None
        self._unchanged_since_s = 0.0
        self.frozen = False

    def observe(self, thumb: npt.NDArray[np.float32], now_s: float) -> bool:
        """Feed the next sampled thumbnail; returns whether the picture is frozen."""
        previous, self._previous = self._previous, thumb
        changed = (
            previous is None
            or previous.shape != thumb.shape
            or float(np.mean(np.abs(thumb - previous))) >= self._epsilon
        )
        if changed:
            self._unchanged_since_s = now_s
        self.frozen = now_s - self._unchanged_since_s >= self._frozen_after_s
        return self.frozen

    def reset(self) -> None:
        self._previous = None
        self.frozen = False


@dataclass(frozen=True, slots=True)
class ReaderStats:
    """A consistent snapshot of one camera's reader (counters since start)."""

    connected: bool
    ended: bool
    frames_read: int
    skipped_frames: int
    corrupt_frames: int
    reconnects: int
    last_frame_age_s: float | None
    frozen: bool  # identical pictures, or connected but no frame, for frozen_after_s
    reason: str  # why the camera is not fine, "" when it is; safe to log


class CameraReader:
    """Reads one camera in its own thread (``run``); the inference loop calls ``take``."""

    def __init__(
        self,
        camera_id: str,
        source: FrameSource,
        patrol: Patrol,
        stop: threading.Event,
        *,
        sample_interval_s: float,
        frozen_after_s: float,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.camera_id = camera_id
        self._source = source
        self._patrol = patrol
        self._stop = stop
        self._sample_interval_s = sample_interval_s
        self._frozen_after_s = frozen_after_s
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._frozen = FrozenDetector(frozen_after_s)
        self._lock = threading.Lock()
        self._slot: Frame | None = None
        self._sequence = 0
        self._next_sample_s = 0.0
        self._is_open = False
        self._ever_opened = False
        self._ended = False
        self._frames_read = 0
        self._skipped = 0
        self._corrupt = 0
        self._reconnects = 0
        self._last_frame_s: float | None = None
        self._progress_s = 0.0  # the last frame or (re)connection: the stall clock
        self._reason = "connecting"

    def run(self) -> None:
        """The thread body: returns when ``stop`` is set or a non-looping replay has ended."""
        logger.info("camera %s: reading %s", self.camera_id, self._source.description)
        try:
            while not self._stop.is_set():
                if not self._is_open and not self._open():
                    continue
                started_s = self._clock()
                result = self._source.grab()
                if result is Grab.ENDED:
                    self._set_closed("replay ended", ended=True)
                    logger.info("camera %s: replay ended", self.camera_id)
                    return
                if result is Grab.LOST:
                    self._source.close()
                    self._set_closed("stream lost")
                    logger.warning("camera %s: stream lost, reconnecting", self.camera_id)
                    continue
                self._on_frame(started_s)
                interval_s = self._source.frame_interval_s
                if interval_s is not None:
                    self._stop.wait(max(0.0, interval_s - (self._clock() - started_s)))
        finally:
            self._source.close()

    def take(self) -> Frame | None:
        """The newest frame not taken yet, or None."""
        with self._lock:
            frame, self._slot = self._slot, None
            return frame

    def stats(self) -> ReaderStats:
        now_s = self._clock()
        with self._lock:
            age_s = None if self._last_frame_s is None else max(0.0, now_s - self._last_frame_s)
            stalled = self._is_open and now_s - self._progress_s >= self._frozen_after_s
            frozen = self._is_open and (self._frozen.frozen or stalled)
            if self._frozen.frozen and self._is_open:
                reason = f"frozen: picture unchanged for {self._frozen_after_s:g} s or more"
            elif stalled:
                reason = f"stalled: no frame for {self._frozen_after_s:g} s or more"
            else:
                reason = self._reason
            return ReaderStats(
                connected=self._is_open,
                ended=self._ended,
                frames_read=self._frames_read,
                skipped_frames=self._skipped,
                corrupt_frames=self._corrupt,
                reconnects=self._reconnects,
                last_frame_age_s=age_s,
                frozen=frozen,
                reason=reason,
            )

    def _open(self) -> bool:
        try:
            self._source.open()
        except (SourceError, cv2.error, OSError) as error:
            delay_s = self._backoff.next_delay()
            with self._lock:
                self._reason = f"cannot open: {error}"
            logger.warning(
                "camera %s: cannot open %s (%s); retrying in %.1f s",
                self.camera_id,
                self._source.description,
                error,
                delay_s,
            )
            self._stop.wait(delay_s)
            return False
        self._backoff.reset()
        self._frozen.reset()
        with self._lock:
            self._is_open = True
            self._reason = ""
            self._progress_s = self._clock()
            if self._ever_opened:
                self._reconnects += 1
            self._ever_opened = True
        logger.info("camera %s: connected to %s", self.camera_id, self._source.description)
        return True

    def _set_closed(self, reason: str, *, ended: bool = False) -> None:
        with self._lock:
            self._is_open = False
            self._ended = ended
            self._reason = reason

    def _on_frame(self, grabbed_s: float) -> None:
        captured_at = datetime.now(UTC)
        position = self._patrol.position(grabbed_s)
        sample = position.capturing and grabbed_s >= self._next_sample_s
        image = self._source.retrieve() if sample else None
        with self._lock:
            self._frames_read += 1
            self._last_frame_s = self._progress_s = grabbed_s
            if not sample:
                self._skipped += 1
                return
            self._next_sample_s = grabbed_s + self._sample_interval_s
            if image is None:
                self._corrupt += 1
                return
            # A picture judged frozen is still analysed: a faint young plume changes too few
            # pixels to move the thumbnail, and must not be missed because of the judgement.
            self._frozen.observe(thumbnail(image), grabbed_s)
            if self._slot is not None:
                self._skipped += 1
            self._sequence += 1
            self._slot = Frame(
                camera_id=self.camera_id,
                pose_id=position.pose.id if position.pose else None,
                sequence=self._sequence,
                captured_at=captured_at,
                image=image,
            )
