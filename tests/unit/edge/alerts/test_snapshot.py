from __future__ import annotations

import numpy as np
import pytest

from contracts.messages import MAX_SNAPSHOT_BYTES
from edge.alerts.snapshot import (
    CROP_MIN_SIDE_PX,
    PixelRegion,
    SnapshotError,
    crop_region,
    encode_jpeg,
    resize_to_width,
)
from edge.messages import Detection, DetectionClass


def box(x_min: float, y_min: float, x_max: float, y_max: float) -> Detection:
    return Detection(x_min, y_min, x_max, y_max, 0.5, DetectionClass.SMOKE)


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        # 192x102 px plume in 1920x1080: 3x its width (576), the 320 px minimum in height.
        ([box(0.45, 0.45, 0.55, 0.5444)], PixelRegion(672, 377, 1248, 697)),
        # A 19x11 px plume gets 320x320 around its centre (969.6, 545.4), not a 57 px crop.
        ([box(0.5, 0.5, 0.51, 0.51)], PixelRegion(810, 385, 1130, 705)),
        # In a corner: the crop slides inside the frame and keeps its size.
        ([box(0.0, 0.0, 0.01, 0.01)], PixelRegion(0, 0, 320, 320)),
        # Two plumes 192..672 px: one 1440 px crop around both, slid right to stay in the frame.
        ([box(0.1, 0.5, 0.15, 0.55), box(0.3, 0.5, 0.35, 0.55)], PixelRegion(0, 407, 1440, 727)),
    ],
)
def test_crop_region(boxes: list[Detection], expected: PixelRegion) -> None:
    region = crop_region(boxes, 1920, 1080)
    assert region == expected
    assert min(region.x1 - region.x0, region.y1 - region.y0) >= CROP_MIN_SIDE_PX


def test_crop_region_is_the_whole_frame_when_the_frame_is_small() -> None:
    assert crop_region([box(0.4, 0.4, 0.5, 0.5)], 200, 150) == PixelRegion(0, 0, 200, 150)


def test_resize_keeps_aspect_and_never_upscales() -> None:
    image = np.zeros((1080, 1920, 3), np.uint8)
    assert resize_to_width(image, 1280).shape == (720, 1280, 3)
    assert resize_to_width(image, 4000) is image


def test_encoder_lowers_quality_before_size() -> None:
    gradient = np.tile(np.linspace(0, 255, 640, dtype=np.uint8), (480, 1))
    image = np.dstack([gradient] * 3)
    jpeg, encoded = encode_jpeg(image, max_bytes=40_000)
    assert len(jpeg) <= 40_000
    assert encoded is image  # a smooth picture fits at full size


def test_encoder_shrinks_what_quality_alone_cannot_fit() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), np.uint8)
    jpeg, encoded = encode_jpeg(noise)
    assert len(jpeg) <= MAX_SNAPSHOT_BYTES
    assert encoded.shape == (540, 960, 3)  # one 3/4 round


def test_encoder_gives_up_clearly() -> None:
    noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), np.uint8)
    with pytest.raises(SnapshotError, match="cannot fit"):
        encode_jpeg(noise, max_bytes=100)
