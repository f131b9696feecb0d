from __future__ import annotations

import numpy as np
import pytest

from edge.detect.preprocess import (
    PAD_VALUE,
    InputSize,
    Letterbox,
    fit,
    letterbox,
    letterbox_batch,
)


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


@pytest.mark.parametrize(
    ("width", "height", "size", "expected"),
    [
        # A 4:3 frame fills a 4:3 input: no padding, nothing resized.
        (640, 480, InputSize(640, 480), Letterbox(1.0, 0, 0, 640, 480)),
        (1920, 1080, InputSize(640, 480), Letterbox(1 / 3, 0, 60, 1920, 1080)),
        (480, 640, InputSize(640, 480), Letterbox(0.75, 140, 0, 480, 640)),
        # 300x200 -> 320x213 in 320x256: 43 rows of padding, the odd one at the bottom.
        (300, 200, InputSize(320, 256), Letterbox(320 / 300, 0, 21, 300, 200)),
    ],
)
def test_fit_in_a_rectangle_matches_ultralytics_geometry(
    width: int, height: int, size: InputSize, expected: Letterbox
) -> None:
    assert fit(width, height, size) == pytest.approx(expected)


@pytest.mark.parametrize(("width", "height"), [(640, 480), (1920, 1080), (301, 199)])
def test_an_int_size_is_the_square(width: int, height: int) -> None:
    assert fit(width, height, 320) == fit(width, height, InputSize(320, 320))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("640x480", InputSize(640, 480)),
        (" 960X544 ", InputSize(960, 544)),
        ("640", InputSize(640, 640)),
    ],
)
def test_input_size_parses_width_x_height_or_one_side(text: str, expected: InputSize) -> None:
    size = InputSize.parse(text)
    assert size == expected
    assert InputSize.parse(str(size)) == size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x480", "not WIDTHxHEIGHT"),
        ("640x", "not WIDTHxHEIGHT"),
        ("big", "not WIDTHxHEIGHT"),
        ("0x480", "positive"),
    ],
)
def test_input_size_refuses_bad_text(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        InputSize.parse(text)


def test_rectangular_tensor_is_height_by_width() -> None:
    tensor, box = letterbox(np.full((480, 640, 3), 200, np.uint8), InputSize(64, 48))
    assert tensor.shape == (1, 3, 48, 64)
    assert (box.pad_x, box.pad_y) == (0, 0)
    assert np.allclose(tensor, 200 / 255)  # the 4:3 frame fills it: no grey anywhere
    tensor, box = letterbox(np.full((480, 480, 3), 200, np.uint8), InputSize(64, 48))
    assert box.pad_x == 8
    assert tensor[0, :, :, :8].tolist() == pytest.approx(np.full((3, 48, 8), PAD_VALUE / 255))


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
