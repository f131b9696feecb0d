"""Letterbox frames into the detector's square input, exactly like ultralytics does at training.

The model was trained on letterboxed images (aspect kept, grey 114 padding, centred), so the edge
must feed the same geometry or small boxes shift. Everything runs in OpenCV's C++ code: one resize,
one copy into a pre-filled canvas and one ``blobFromImages`` (BGR->RGB, /255, NCHW float32).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114  # ultralytics' LetterBox fill; a different grey shifts scores near the borders

Image = npt.NDArray[np.uint8]
Tensor = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a source image was placed in the square input: ``input = source * scale + pad``."""

    scale: float
    pad_x: int
    pad_y: int
    source_width_px: int
    source_height_px: int

    def to_source_px(self, boxes_input_px: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map (K, 4) xyxy boxes from input pixels back to source pixels, clipped to the source."""
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float32)
        limit = np.array(
            [
                self.source_width_px,
                self.source_height_px,
                self.source_width_px,
                self.source_height_px,
            ],
            np.float32,
        )
        boxes: npt.NDArray[np.float32] = (boxes_input_px - offset) / np.float32(self.scale)
        return np.clip(boxes, np.float32(0.0), limit)


def fit(width_px: int, height_px: int, size: int) -> Letterbox:
    """The letterbox geometry of a ``width_px`` x ``height_px`` image in a ``size`` square."""
    scale = min(size / width_px, size / height_px)
    new_width, new_height = round(width_px * scale), round(height_px * scale)
    # ultralytics splits odd padding with round(d -/+ 0.1): the extra pixel goes bottom/right.
    pad_x = round((size - new_width) / 2 - 0.1)
    pad_y = round((size - new_height) / 2 - 0.1)
    return Letterbox(scale, pad_x, pad_y, width_px, height_px)


def letterbox_image(image: Image, size: int) -> tuple[Image, Letterbox]:
    """The ``size`` x ``size`` BGR uint8 canvas holding ``image`` letterboxed, and its geometry."""
    height, width = image.shape[:2]
    box = fit(width, height, size)
    new_width, new_height = round(width * box.scale), round(height * box.scale)
    resized = (
        image
        if (new_width, new_height) == (width, height)
        else cv2.resize(image, (new_width, new_height), interpolation=cv2.INTER_LINEAR)
    )
    canvas = np.full((size, size, 3), PAD_VALUE, np.uint8)
    canvas[box.pad_y : box.pad_y + new_height, box.pad_x : box.pad_x + new_width] = resized
    return canvas, box


def letterbox(image: Image, size: int) -> tuple[Tensor, Letterbox]:
    """One BGR image to a (1, 3, size, size) RGB float32 tensor in [0, 1], and its geometry."""
    tensor, boxes = letterbox_batch([image], size)
    return tensor, boxes[0]


def letterbox_batch(images: Sequence[Image], size: int) -> tuple[Tensor, list[Letterbox]]:
    """Several BGR images to one (B, 3, size, size) RGB float32 tensor in [0, 1]."""
    canvases, boxes = zip(*(letterbox_image(image, size) for image in images), strict=True)
    blob = cv2.dnn.blobFromImages(list(canvases), scalefactor=1.0 / 255.0, swapRB=True)
    return np.ascontiguousarray(blob, dtype=np.float32), list(boxes)
