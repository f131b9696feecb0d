from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from vigifeu.training.graph import last_axis_dfl

BINS, ANCHORS = 16, 30


def dfl_model(softmax_axis: int = 1) -> onnx.ModelProto:
    """The DFL as ultralytics exports it: (1, 64, A) -> (1, 4, A) expected distances."""
    initializers = [
        numpy_helper.from_array(np.array([1, 4, BINS, ANCHORS], np.int64), "split_shape"),
        numpy_helper.from_array(np.arange(BINS, dtype=np.float32).reshape(1, BINS, 1, 1), "w"),
        numpy_helper.from_array(np.array([1, 4, ANCHORS], np.int64), "out_shape"),
    ]
    nodes = [
        helper.make_node("Reshape", ["x", "split_shape"], ["r"], name="/model.9/dfl/Reshape"),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3], name="/model.9/dfl/T"),
        helper.make_node("Softmax", ["t"], ["s"], axis=softmax_axis, name="/model.9/dfl/Softmax"),
        helper.make_node("Conv", ["s", "w"], ["c"], kernel_shape=[1, 1], name="/model.9/dfl/conv"),
        helper.make_node("Reshape", ["c", "out_shape"], ["y"], name="/model.9/dfl/Reshape_1"),
    ]
    graph = helper.make_graph(
        nodes,
        "dfl",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4 * BINS, ANCHORS])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, ANCHORS])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x})[0])


def test_the_rewritten_dfl_gives_the_same_distances_with_a_last_axis_softmax() -> None:
    x = np.random.default_rng(0).normal(0, 3, (1, 4 * BINS, ANCHORS)).astype(np.float32)
    model = dfl_model()
    expected = run(model, x)
    assert last_axis_dfl(model) == 1
    onnx.checker.check_model(model)
    softmax = next(node for node in model.graph.node if node.op_type == "Softmax")
    assert helper.get_attribute_value(softmax.attribute[0]) == -1
    assert not any(node.op_type == "Conv" for node in model.graph.node)
    assert softmax.name.startswith("/model.9/")  # the quantizer keeps the head's decode float
    assert {t.name for t in model.graph.initializer}.isdisjoint({"w", "out_shape"})
    np.testing.assert_allclose(run(model, x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axis", [2, -1])
def test_another_softmax_is_left_alone(axis: int) -> None:
    model = dfl_model(softmax_axis=axis)
    before = model.SerializeToString()
    assert last_axis_dfl(model) == 0
    assert model.SerializeToString() == before
