"""A tiny ONNX detector with the production signature, built in the tests (no trained weights).

Input ``images``: float32 (B, 3, S, S), RGB in [0, 1], letterboxed; B is 1 like the production
export unless ``batch`` says otherwise (an int, or a name for a dynamic batch). Output ``output0``:
float32 (B, 4 + 2, G*G) like an ultralytics YOLO export: rows cx, cy, w, h (pixels of the S x S input)
then the smoke and fire scores. The "detector" scores each cell of a G x G grid by how bright and
grey it is: a bright grey patch ("smoke") on a darker frame is detected; a dark or saturated
frame is not. Deterministic, so tests can assert exact outcomes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build_tiny_detector(
    path: Path,
    batch: int | str = 1,
    input_size: int = 320,
    grid: int = 8,
    brightness_threshold: float = 0.75,
    sharpness: float = 40.0,
) -> Path:
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
        numpy_helper.from_array(np.array(brightness_threshold, np.float32), "threshold"),
        numpy_helper.from_array(np.array(sharpness, np.float32), "sharpness"),
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
        "tiny_brightness_detector",
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
