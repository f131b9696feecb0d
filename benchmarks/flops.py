"""FLOPs of one forward pass, counted from an ONNX graph's Conv and MatMul shapes.

Convention of ultralytics' GFLOPs figure (thop MACs x 2): a Conv costs 2 x output elements x
(input channels / groups) x kernel area, a MatMul 2 x M x K x N per batch. Elementwise ops,
pooling and resizes are left out (a few % of a YOLO network). Shapes come from ONNX shape
inference; quantized graphs count the same convolutions (QDQ ``Conv`` or ``QLinearConv``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

# Operator -> index of its weight input (the output shape gives the rest).
CONV_WEIGHT_INPUT = {"Conv": 1, "ConvInteger": 1, "QLinearConv": 3}
MATMUL_INPUTS = {"MatMul": (0, 1), "MatMulInteger": (0, 1), "QLinearMatMul": (0, 3), "Gemm": (0, 1)}


def _shapes(graph: Any) -> dict[str, list[int]]:
    shapes: dict[str, list[int]] = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            shapes[value.name] = [d.dim_value for d in dims]
    for initializer in graph.initializer:
        shapes[initializer.name] = list(initializer.dims)
    return shapes


def count_gflops(model_path: Path) -> float | None:
    """GFLOPs per frame of the model, or None when ``onnx`` is not installed (runtime-only)."""
    try:
        import onnx
    except ImportError:
        return None
    model = onnx.shape_inference.infer_shapes(onnx.load(str(model_path)))
    shapes = _shapes(model.graph)
    flops = 0
    for node in model.graph.node:
        if node.op_type in CONV_WEIGHT_INPUT:
            weight = shapes.get(node.input[CONV_WEIGHT_INPUT[node.op_type]])
            output = shapes.get(node.output[0])
            if weight and output:
                flops += 2 * math.prod(output) * math.prod(weight[1:])
        elif node.op_type in MATMUL_INPUTS:
            left, right = (shapes.get(node.input[i]) for i in MATMUL_INPUTS[node.op_type])
            output = shapes.get(node.output[0])
            if left and right and output:
                transposed = any(a.name == "transA" and a.i for a in node.attribute)
                inner = left[0] if transposed else left[-1]
                flops += 2 * math.prod(output) * inner
    return flops / 1e9
