"""Frame sources behind one Protocol: a live RTSP camera, or a replayed video file / image folder.

A source only reads. Reconnecting, pacing, timestamps and health belong to the reader
(``edge.ingest.reader``), so a replay behaves exactly like a camera there. Reading is split in
``grab`` (take the next frame off the stream, cheap) and ``retrieve`` (decode it into a BGR
array): the reader grabs every frame to stay at the live edge of the stream but retrieves only
the frames it needs (about one per second), which saves the colour conversion of the others.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from enum import Enum
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from edge import config

logger = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]

# FFmpeg options for RTSP, read by OpenCV from the environment at each open (process-wide, so
# every camera gets the same). TCP: UDP loses packets on 4G links and smears frames. The probe
# limits cut open() from ~2.0 s to ~0.3 s on a 640x480 H.264 stream (toolchain.md §3); the codec
# parameters of an RTSP stream come in the SDP, so little probing is needed.
FFMPEG_RTSP_OPTIONS = "rtsp_transport;tcp|analyzeduration;500000|probesize;65536"

# A replayed file whose container does not state its frame rate is played at this rate.
DEFAULT_REPLAY_FPS = 5.0

# One decoding thread per camera: the reader thread already parallelises cameras, and FFmpeg's
# default (one thread per core, each holding frame buffers) measured +8 MiB per 1080p camera on
# 2 cores for the same CPU time (more on a 4-core Pi).
DECODE_THREADS = 1

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


class SourceError(RuntimeError):
    """The source cannot be opened (unreachable, missing file). Safe to log: no credentials."""


class Grab(Enum):
    FRAME = "frame"  # a frame is ready for retrieve()
    LOST = "lost"  # the stream failed: close and reopen
    ENDED = "ended"  # a replay that does not loop has no more frames


class FrameSource(Protocol):
    @property
    def description(self) -> str:
        """What the source is, safe for logs (credentials redacted)."""
        ...

    @property
    def frame_interval_s(self) -> float | None:
        """Pacing for replays: seconds between frames. None for live sources (the camera paces)."""
        ...

    def open(self) -> None:
        """Connect or open; raises SourceError. Bounded by the source's open timeout."""
        ...

    def grab(self) -> Grab:
        """Take the next frame off the stream. Bounded by the source's read timeout."""
        ...

    def retrieve(self) -> Image | None:
        """Decode the last grabbed frame (H x W x 3 BGR), or None if it is corrupt."""
        ...

    def close(self) -> None: ...


def usable_image(image: object) -> Image | None:
    """The image if it is a non-empty H x W x 3 uint8 array, else None (a corrupt frame)."""
    if (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.ndim == 3
        and image.shape[2] == 3
        and image.shape[0] > 0
        and image.shape[1] > 0
    ):
        return image
    return None


class _CaptureSource(ABC):
    """Shared grab/retrieve over a cv2.VideoCapture; subclasses say how to open it."""

    def __init__(self) -> None:
        self._capture: cv2.VideoCapture | None = None

    @property
    @abstractmethod
    def description(self) -> str: ...

    def _opened(self, capture: cv2.VideoCapture, description: str) -> None:
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open {description}")
        self._capture = capture

    def grab(self) -> Grab:
        if self._capture is None:
            return Grab.LOST
        try:
            return Grab.FRAME if self._capture.grab() else Grab.LOST
        except cv2.error as error:  # a broken stream must not kill the reader thread
            logger.warning("%s: grab failed: %s", self.description, error)
            return Grab.LOST

    def retrieve(self) -> Image | None:
        if self._capture is None:
            return None
        try:
            ok, image = self._capture.retrieve()
        except cv2.error as error:
            logger.warning("%s: corrupt frame: %s", self.description, error)
            return None
        return usable_image(image) if ok else None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class RtspSource(_CaptureSource):
    """A live camera over RTSP/TCP through OpenCV's FFmpeg backend, with both timeouts set.

    Without them a hung camera blocks ``read()`` for OpenCV's default 30 s and ``open()`` for 30 s
    (measured, toolchain.md §3); with them each call returns within its timeout.
    """

    def __init__(self, settings: config.RtspSource) -> None:
        super().__init__()
        self._settings = settings

    @property
    def description(self) -> str:
        return self._settings.redacted_url()

    @property
    def frame_interval_s(self) -> float | None:
        return None

    def open(self) -> None:
        self.close()
        os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = FFMPEG_RTSP_OPTIONS
        capture = cv2.VideoCapture(
            self._settings.url.get_secret_value(),
            cv2.CAP_FFMPEG,
            [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                round(self._settings.open_timeout_s * 1000),
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                round(self._settings.read_timeout_s * 1000),
                cv2.CAP_PROP_N_THREADS,
                DECODE_THREADS,
            ],
        )
        self._opened(capture, self.description)


class VideoFileSource(_CaptureSource):
    """A recorded clip played at its own frame rate, looping if asked, like a camera."""

    def __init__(self, path: Path, *, loop: bool) -> None:
        super().__init__()
        self._path = path
        self._loop = loop
        self._interval_s = 1.0 / DEFAULT_REPLAY_FPS

    @property
    def description(self) -> str:
        return f"video {self._path}"

    @property
    def frame_interval_s(self) -> float | None:
        return self._interval_s

    def open(self) -> None:
        self.close()
        if not self._path.is_file():
            raise SourceError(f"no such video file: {self._path}")
        capture = cv2.VideoCapture(
            str(self._path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, DECODE_THREADS]
        )
        self._opened(capture, self.description)
        fps = capture.get(cv2.CAP_PROP_FPS)
        self._interval_s = 1.0 / (fps if 0 < fps <= 240 else DEFAULT_REPLAY_FPS)

    def grab(self) -> Grab:
        if self._capture is None:
            return Grab.LOST
        if self._capture.grab():
            return Grab.FRAME
        if not self._loop:
            return Grab.ENDED
        # End of file: rewind. A file that cannot give a frame even from its start is broken.
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        return Grab.FRAME if self._capture.grab() else Grab.LOST


class ImageFolderSource:
    """A folder of frames replayed in name order, one frame every ``frame_interval_s``.

    An image that does not decode is a corrupt frame (counted by the reader), not a failure.
    """

    def __init__(self, path: Path, *, loop: bool, frame_interval_s: float) -> None:
        self._path = path
        self._loop = loop
        self._interval_s = frame_interval_s
        self._files: list[Path] = []
        self._next = 0
        self._current: Path | None = None

    @property
    def description(self) -> str:
        return f"images {self._path}"

    @property
    def frame_interval_s(self) -> float | None:
        return self._interval_s

    def open(self) -> None:
        if not self._path.is_dir():
            raise SourceError(f"no such image folder: {self._path}")
        self._files = sorted(p for p in self._path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise SourceError(f"no images in {self._path}")
        self._next = 0

    def grab(self) -> Grab:
        if not self._files:
            return Grab.LOST
        if self._next >= len(self._files):
            if not self._loop:
                return Grab.ENDED
            self._next = 0
        self._current = self._files[self._next]
        self._next += 1
        return Grab.FRAME

    def retrieve(self) -> Image | None:
        if self._current is None:
            return None
        return usable_image(cv2.imread(str(self._current), cv2.IMREAD_COLOR))

    def close(self) -> None:
        self._current = None


def source_for(camera: config.Camera) -> FrameSource:
    """The source a camera's config describes. Image folders advance one image per cadence."""
    settings = camera.source
    if isinstance(settings, config.RtspSource):
        return RtspSource(settings)
    if isinstance(settings, config.VideoFileSource):
        return VideoFileSource(settings.path, loop=settings.loop)
    return ImageFolderSource(settings.path, loop=settings.loop, frame_interval_s=camera.cadence_s)
