"""Batch-capable and rectangular tiny detectors (around tests/support/tiny_model.py) and frames
for the detector tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from edge.detect.preprocess import PAD_VALUE
from edge.messages import Frame
from tests.support.tiny_model import build_tiny_detector

T0 = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def dynamic_batch_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_detector(tmp_path_factory.mktemp("models") / "dyn.onnx", "batch")


@pytest.fixture(scope="session")
def static_batch3_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_detector(tmp_path_factory.mktemp("models") / "b3.onnx", 3)


def build_rectangular_detector(path: Path, width_px: int = 320, height_px: int = 240) -> Path:
    """The square tiny detector behind a (1, 3, H, W) input: a Pad node fills it up to the
    W x W square with letterbox grey, centred, and the box centres are moved back by the top pad,
    so it finds the same smoke as the square model in input pixels of its own rectangle."""
    model = onnx.load(build_tiny_detector(path.with_name(f"square-{path.name}"), 1, width_px))
    graph = model.graph
    top = (width_px - height_px) // 2
    for node in graph.node:
        node.input[:] = ["square_images" if name == "images" else name for name in node.input]
        node.output[:] = ["square_output" if name == "output0" else name for name in node.output]
    pads = [0, 0, top, 0, 0, 0, width_px - height_px - top, 0]
    offset = np.array([0, top, 0, 0, 0, 0], np.float32).reshape(1, 6, 1)
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(pads, np.int64), "pads"),
            numpy_helper.from_array(np.array(PAD_VALUE / 255.0, np.float32), "pad_value"),
            numpy_helper.from_array(offset, "box_offset"),
        ]
    )
    graph.node.insert(
        0, helper.make_node("Pad", ["images", "pads", "pad_value"], ["square_images"])
    )
    graph.node.append(helper.make_node("Sub", ["square_output", "box_offset"], ["output0"]))
    graph.input[0].type.tensor_type.shape.dim[2].dim_value = height_px
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="session")
def rectangular_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static 320x240 (width x height) input: a 4:3 frame fills it without padding."""
    return build_rectangular_detector(tmp_path_factory.mktemp("models") / "rect.onnx")


def frame_with_patch(
    width: int,
    height: int,
    patch: tuple[int, int, int, int] | None = None,
    *,
    sequence: int = 0,
    camera_id: str = "cam-1",
) -> Frame:
    """A dark BGR frame with an optional bright grey (x0, y0, x1, y1) patch: the tiny model's smoke."""
    image = np.full((height, width, 3), 30, np.uint8)
    if patch is not None:
        x0, y0, x1, y1 = patch
        image[y0:y1, x0:x1] = 230
    return Frame(camera_id, None, sequence, T0 + timedelta(seconds=10 * sequence), image)
