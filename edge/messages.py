"""Typed values that flow between the stages of the edge pipeline (no I/O here).

frame -> detections -> confirmed event. Boxes are normalised to the full frame, x right, y down,
``0 <= x_min < x_max <= 1``, like the wire contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt


class DetectionClass(StrEnum):
    SMOKE = "smoke"
    FIRE = "fire"


# Class index of the detector's output rows, after the 4 box rows.
CLASS_BY_INDEX: tuple[DetectionClass, ...] = (DetectionClass.SMOKE, DetectionClass.FIRE)


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured image. ``captured_at`` is tz-aware UTC, taken when the frame was read."""

    camera_id: str
    pose_id: str | None
    sequence: int
    captured_at: datetime
    image: npt.NDArray[np.uint8]  # H x W x 3, BGR (OpenCV order)

    @property
    def width_px(self) -> int:
        return int(self.image.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class Detection:
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    score: float
    detection_class: DetectionClass

    @property
    def width(self) -> float:
        return self.x_max - self.x_min

    @property
    def height(self) -> float:
        return self.y_max - self.y_min


@dataclass(frozen=True, slots=True)
class StageTimings:
    """Milliseconds spent per stage on one frame (benchmarks read these)."""

    preprocess_ms: float
    inference_ms: float
    postprocess_ms: float


@dataclass(frozen=True, slots=True)
class FrameDetections:
    frame: Frame
    detections: tuple[Detection, ...]
    timings: StageTimings | None = None
