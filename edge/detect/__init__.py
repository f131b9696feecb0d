"""Detection stage: frames in, boxes normalised to the full frame out.

``Detector`` is the seam the runtime and the benchmarks use: ``OnnxDetector`` (production,
``edge.detect.onnx_detector``) and ``ScriptedDetector`` (canned answers, ``edge.detect.scripted``)
both satisfy it. This module imports neither, so importing the Protocol never loads onnxruntime.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from contracts import ModelInfo
from edge.messages import Frame, FrameDetections

# Below this the letterbox has nothing to work with; real cameras send 640 px and more.
MIN_FRAME_SIDE_PX = 16


class DetectorInputError(ValueError):
    """A frame the detector cannot use (empty, wrong shape or type); nothing was run."""

    def __init__(self, frame: Frame, reason: str) -> None:
        super().__init__(f"camera {frame.camera_id!r} frame {frame.sequence}: {reason}")
        self.frame = frame


def check_frame(frame: Frame) -> None:
    """Raise ``DetectorInputError`` unless the frame's image is H x W x 3 uint8, not tiny."""
    image = frame.image
    if not isinstance(image, np.ndarray):
        raise DetectorInputError(frame, f"image is a {type(image).__name__}, not a numpy array")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise DetectorInputError(
            frame, f"image must be H x W x 3 uint8, got {image.shape} {image.dtype}"
        )
    if min(image.shape[:2]) < MIN_FRAME_SIDE_PX:
        raise DetectorInputError(frame, f"image of {image.shape[1]}x{image.shape[0]} is too small")


class Detector(Protocol):
    """Runs a model on frames; one ``FrameDetections`` per frame, in the same order."""

    @property
    def model_info(self) -> ModelInfo: ...

    def detect(self, frames: Sequence[Frame]) -> list[FrameDetections]: ...


__all__ = ["MIN_FRAME_SIDE_PX", "Detector", "DetectorInputError", "check_frame"]
