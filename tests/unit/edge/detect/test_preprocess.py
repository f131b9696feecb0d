from __future__ import annotations

import numpy as np
import pytest

from edge.detect.preprocess import PAD_VALUE, Letterbox, fit, letterbox, letterbox_batch


@pytest.mark.parametrize(
    ("width", "height", "size", "expected"),
    [
        (640, 480, 320, Letterbox(0.5, 0, 40, 640, 480)),
        (480, 640, 320, Letterbox(0.5, 40, 0, 480, 640)),
        (1920, 1080, 640, Letterbox(1 / 3, 0, 140, 1920, 1080)),
        (320, 320, 320, Letterbox(1.0, 0, 0, 320, 320)),
        # 300x200 -> 320x213: 107 rows of padding, the odd one goes to the bottom (ultralytics).
        (300, 200, 320, Letterbox(320 / 300, 0, 53, 300, 200)),
    ],
)
def test_fit_matches_ultralytics_geometry(
    width: int, height: int, size: int, expected: Letterbox
) -> None:
    assert fit(width, height, size) == pytest.approx(expected)


def test_tensor_is_rgb_unit_nchw_with_grey_padding() -> None:
    blue_bgr = np.zeros((480, 640, 3), np.uint8)
    blue_bgr[..., 0] = 255
    tensor, box = letterbox(blue_bgr, 320)
    assert tensor.shape == (1, 3, 320, 320)
    assert tensor.dtype == np.float32
    inside = tensor[0, :, box.pad_y + 10, 160]
    assert inside.tolist() == pytest.approx([0.0, 0.0, 1.0])  # R, G, B
    padding = tensor[0, :, 5, 160]
    assert padding.tolist() == pytest.approx([PAD_VALUE / 255] * 3)
    assert tensor[0, :, 320 - 5, 160].tolist() == pytest.approx([PAD_VALUE / 255] * 3)


def test_batch_stacks_images_of_different_sizes() -> None:
    images = [np.full((480, 640, 3), 10, np.uint8), np.full((100, 50, 3), 200, np.uint8)]
    tensor, boxes = letterbox_batch(images, 64)
    assert tensor.shape == (2, 3, 64, 64)
    assert [box.source_width_px for box in boxes] == [640, 50]
    assert tensor[0, 0, 32, 32] == pytest.approx(10 / 255)
    assert tensor[1, 0, 32, 32] == pytest.approx(200 / 255)


def test_boxes_map_back_to_source_pixels_and_clip() -> None:
    box = fit(640, 480, 320)
    source = np.array([[100, 50, 300, 200], [600, 400, 700, 500]], np.float32)
    as_input = source * box.scale + np.array([box.pad_x, box.pad_y] * 2, np.float32)
    back = box.to_source_px(as_input)
    assert back[0].tolist() == pytest.approx([100, 50, 300, 200])
    assert back[1].tolist() == pytest.approx([600, 400, 640, 480])  # clipped to the frame
