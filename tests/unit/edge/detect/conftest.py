"""A batch-capable variant of the tiny detector (same scoring as tests/support/tiny_model.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge.messages import Frame

T0 = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)


def build_batched_tiny_detector(
    path: Path, batch: int | str, input_size: int = 320, grid: int = 8
) -> Path:
    """Like ``build_tiny_detector`` but with batch dimension ``batch`` (an int or a name)."""
    cell = input_size // grid
    centres = (np.arange(grid, dtype=np.float32) + 0.5) * cell
    cy, cx = np.meshgrid(centres, centres, indexing="ij")
    side = np.full(grid * grid, cell, np.float32)
    boxes = np.stack([cx.ravel(), cy.ravel(), side, side])[None]
    initializers = [
        numpy_helper.from_array(boxes, "boxes"),
        numpy_helper.from_array(np.array([0, 1, grid * grid], np.int64), "flat_shape"),
        numpy_helper.from_array(np.array([4, grid * grid], np.int64), "box_tail"),
        numpy_helper.from_array(np.array([0], np.int64), "zero_index"),
        numpy_helper.from_array(np.array(0.75, np.float32), "threshold"),
        numpy_helper.from_array(np.array(40.0, np.float32), "sharpness"),
        numpy_helper.from_array(np.array(0.0, np.float32), "nothing"),
    ]
    nodes = [
        helper.make_node(
            "AveragePool", ["images"], ["cells"], kernel_shape=[cell, cell], strides=[cell, cell]
        ),
        helper.make_node("ReduceMean", ["cells"], ["brightness"], axes=[1], keepdims=1),
        helper.make_node("ReduceMax", ["cells"], ["channel_max"], axes=[1], keepdims=1),
        helper.make_node("ReduceMin", ["cells"], ["channel_min"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["channel_max", "channel_min"], ["saturation"]),
        helper.make_node("Sub", ["brightness", "saturation"], ["greyness"]),
        helper.make_node("Sub", ["greyness", "threshold"], ["margin"]),
        helper.make_node("Mul", ["margin", "sharpness"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["score_grid"]),
        helper.make_node("Reshape", ["score_grid", "flat_shape"], ["smoke_scores"]),
        helper.make_node("Mul", ["smoke_scores", "nothing"], ["fire_scores"]),
        helper.make_node("Shape", ["images"], ["input_shape"]),
        helper.make_node("Gather", ["input_shape", "zero_index"], ["batch_size"], axis=0),
        helper.make_node("Concat", ["batch_size", "box_tail"], ["boxes_shape"], axis=0),
        helper.make_node("Expand", ["boxes", "boxes_shape"], ["batch_boxes"]),
        helper.make_node(
            "Concat", ["batch_boxes", "smoke_scores", "fire_scores"], ["output0"], axis=1
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_batched_detector",
        [
            helper.make_tensor_value_info(
                "images", TensorProto.FLOAT, [batch, 3, input_size, input_size]
            )
        ],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [batch, 6, grid * grid])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="session")
def dynamic_batch_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_batched_tiny_detector(tmp_path_factory.mktemp("models") / "dyn.onnx", "batch")


@pytest.fixture(scope="session")
def static_batch3_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_batched_tiny_detector(tmp_path_factory.mktemp("models") / "b3.onnx", 3)


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
