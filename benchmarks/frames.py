"""Images from disk as edge ``Frame`` values, and progress lines for long benchmark loops."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from edge.messages import Frame

logger = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
T = TypeVar("T")

# Frames of a dataset have no capture time; a fixed origin keeps every output reproducible.
DATASET_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
BENCH_CAMERA_ID = "bench"
PROGRESS_INTERVAL_S = 5.0


class ImageReadError(ValueError):
    """An image file that is missing or does not decode."""


def read_image(path: Path) -> Image:
    """The file decoded as an H x W x 3 BGR array (what a camera reader hands the detector)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageReadError(f"{path}: missing or not a decodable image")
    return np.ascontiguousarray(image, np.uint8)


def make_frame(
    image: Image,
    sequence: int,
    captured_at: datetime | None = None,
    camera_id: str = BENCH_CAMERA_ID,
) -> Frame:
    at = captured_at or DATASET_EPOCH + timedelta(seconds=sequence)
    return Frame(camera_id, None, sequence, at, image)


def with_progress(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """Yield ``items``, logging 'label: done/total' every few seconds and at the end."""
    started = last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= PROGRESS_INTERVAL_S and done < total:
            logger.info("%s: %d/%d (%.0f s)", label, done, total, now - started)
            last = now
    logger.info("%s: %d/%d done in %.1f s", label, done, total, time.monotonic() - started)
