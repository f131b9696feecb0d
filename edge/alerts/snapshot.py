"""JPEG snapshots of an event: the whole frame, downscaled, and a crop around the boxes.

Each picture must fit ``MAX_SNAPSHOT_BYTES`` (it travels base64-encoded inside the alert). The
encoder lowers the JPEG quality from 85 to 45; if that is not enough it shrinks the picture to 3/4
and tries again, until it fits. Measured: a 640 x 480 frame of the sample clip is 45 kB at quality
85; 1280 x 720 white noise (the worst case for JPEG) fits after one shrink, as 960 x 540 at 241 kB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from contracts import BoundingBox, DetectionClass, Snapshot, SnapshotKind
from contracts.messages import MAX_SNAPSHOT_BYTES
from edge.messages import Detection

Image = npt.NDArray[np.uint8]

FULL_MAX_WIDTH_PX = 1280  # operators see the whole view; more pixels cost uplink, not insight
CROP_MAX_SIDE_PX = 1280
# Context around the boxes: each side gets the boxes' extent again, so the crop is 3x the plume
# and shows the ridge line or valley it rises from. At least 320 px, so a 10 px plume is not a
# blur of eight pixels when the operator zooms in.
CROP_CONTEXT_FACTOR = 1.0
CROP_MIN_SIDE_PX = 320
JPEG_QUALITIES = (85, 75, 65, 55, 45)
SHRINK_FACTOR = 0.75
MIN_SIDE_PX = 32


class SnapshotError(ValueError):
    """The picture cannot be encoded within the size cap."""


@dataclass(frozen=True, slots=True)
class PixelRegion:
    """A rectangle of the full frame, in pixels, ``x0 <= x < x1``."""

    x0: int
    y0: int
    x1: int
    y1: int


def resize_to_width(image: Image, max_width_px: int) -> Image:
    height, width = image.shape[:2]
    if width <= max_width_px:
        return image
    new_height = max(1, round(height * max_width_px / width))
    resized: Image = cv2.resize(image, (max_width_px, new_height), interpolation=cv2.INTER_AREA)
    return resized


def encode_jpeg(image: Image, max_bytes: int = MAX_SNAPSHOT_BYTES) -> tuple[bytes, Image]:
    """The JPEG bytes of ``image`` (or of a smaller copy) within ``max_bytes``, and that image."""
    current = image
    while min(current.shape[:2]) >= MIN_SIDE_PX:
        for quality in JPEG_QUALITIES:
            ok, encoded = cv2.imencode(".jpg", current, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise SnapshotError(f"OpenCV could not encode a {current.shape} image as JPEG")
            if encoded.size <= max_bytes:
                return encoded.tobytes(), current
        height, width = current.shape[:2]
        size = (max(1, round(width * SHRINK_FACTOR)), max(1, round(height * SHRINK_FACTOR)))
        current = cv2.resize(current, size, interpolation=cv2.INTER_AREA)
    raise SnapshotError(f"cannot fit a {image.shape} image in {max_bytes} bytes")


def crop_region(boxes: Sequence[Detection], width_px: int, height_px: int) -> PixelRegion:
    """The boxes' union with context around it, at least ``CROP_MIN_SIDE_PX``, inside the frame."""
    if not boxes:
        raise ValueError("a crop needs at least one box")
    x_min = min(box.x_min for box in boxes) * width_px
    y_min = min(box.y_min for box in boxes) * height_px
    x_max = max(box.x_max for box in boxes) * width_px
    y_max = max(box.y_max for box in boxes) * height_px

    def span(low: float, high: float, limit: int) -> tuple[int, int]:
        extent = high - low
        side = min(limit, max(extent * (1 + 2 * CROP_CONTEXT_FACTOR), CROP_MIN_SIDE_PX))
        start = (low + high) / 2 - side / 2
        start = min(max(start, 0.0), limit - side)  # slide inside the frame, keep the size
        return round(start), min(limit, round(start + side))

    x0, x1 = span(x_min, x_max, width_px)
    y0, y1 = span(y_min, y_max, height_px)
    return PixelRegion(x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))


def full_snapshot(image: Image) -> Snapshot:
    jpeg, encoded = encode_jpeg(resize_to_width(image, FULL_MAX_WIDTH_PX))
    return Snapshot.from_jpeg(jpeg, SnapshotKind.FULL, encoded.shape[1], encoded.shape[0])


def crop_snapshot(
    image: Image, boxes: Sequence[Detection], score: float, detection_class: DetectionClass
) -> Snapshot:
    """A crop around ``boxes``; ``crop_box`` records which part of the frame it shows."""
    height, width = image.shape[:2]
    region = crop_region(boxes, width, height)
    crop = image[region.y0 : region.y1, region.x0 : region.x1]
    if max(crop.shape[:2]) > CROP_MAX_SIDE_PX:
        scale = CROP_MAX_SIDE_PX / max(crop.shape[:2])
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    jpeg, encoded = encode_jpeg(np.ascontiguousarray(crop))
    crop_box = BoundingBox(
        x_min=region.x0 / width,
        y_min=region.y0 / height,
        x_max=region.x1 / width,
        y_max=region.y1 / height,
        score=min(1.0, max(0.0, score)),
        detection_class=detection_class,
    )
    return Snapshot.from_jpeg(
        jpeg, SnapshotKind.CROP, encoded.shape[1], encoded.shape[0], crop_box=crop_box
    )
