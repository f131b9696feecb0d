"""Which nodes stay float, and which frames calibrate."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edge.detect.preprocess import InputSize
from vigifeu.training.card import FLOAT_SCOPE_TEXT
from vigifeu.training.quantize import (
    FLOAT_SCOPES,
    LetterboxCalibration,
    QuantizationError,
    detect_head_prefix,
    float_nodes,
    head_decode_nodes,
    pick_calibration_frames,
    quantize_int8,
)


def graph_with(names: list[str]) -> onnx.ModelProto:
    """A chain of Identity nodes carrying the given names (only names matter here)."""
    nodes = [
        helper.make_node("Identity", [f"t{i}"], [f"t{i + 1}"], name=name)
        for i, name in enumerate(names)
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info(f"t{len(names)}", TensorProto.FLOAT, [1])],
    )
    return helper.make_model(graph)


# Names as ultralytics' ONNX export writes them for yolov5nu (Detect head = module 24).
YOLOV5NU_NAMES = [
    "/model.0/conv/Conv",
    "/model.2/cv1/conv/Conv",
    "/model.3/conv/Conv",
    "/model.20/cv1/conv/Conv",  # module 20, not module 2
    "/model.23/cv3/conv/Conv",  # a C3 block's cv3: not the head, despite the name
    "/model.24/cv2.0/cv2.0.0/conv/Conv",
    "/model.24/cv3.2/cv3.2.2/Conv",
    "/model.24/Concat",
    "/model.24/dfl/Softmax",
    "/model.24/dfl/conv/Conv",
    "/model.24/Sigmoid",
    "/model.24/Concat_3",
]


def test_head_is_the_last_module_with_cv2_cv3_branches() -> None:
    assert detect_head_prefix(graph_with(YOLOV5NU_NAMES)) == "/model.24/"


def test_decode_nodes_are_the_head_minus_its_convolution_branches() -> None:
    assert head_decode_nodes(graph_with(YOLOV5NU_NAMES)) == [
        "/model.24/Concat",
        "/model.24/dfl/Softmax",
        "/model.24/dfl/conv/Conv",
        "/model.24/Sigmoid",
        "/model.24/Concat_3",
    ]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (None, []),  # whole graph quantized
        ("decode", head_decode_nodes(graph_with(YOLOV5NU_NAMES))),
        (
            "stem",
            [
                "/model.0/conv/Conv",
                "/model.2/cv1/conv/Conv",
                *head_decode_nodes(graph_with(YOLOV5NU_NAMES)),
            ],
        ),
        (
            "classes",
            [
                "/model.24/cv3.2/cv3.2.2/Conv",
                "/model.24/Concat",
                "/model.24/dfl/Softmax",
                "/model.24/dfl/conv/Conv",
                "/model.24/Sigmoid",
                "/model.24/Concat_3",
            ],
        ),
        ("head", [name for name in YOLOV5NU_NAMES if name.startswith("/model.24/")]),
    ],
)
def test_float_scopes(scope: str | None, expected: list[str]) -> None:
    assert float_nodes(graph_with(YOLOV5NU_NAMES), scope) == expected


def test_unknown_float_scope_is_refused() -> None:
    with pytest.raises(QuantizationError, match="unknown float scope"):
        float_nodes(graph_with(YOLOV5NU_NAMES), "backbone")


def test_end_to_end_head_branches_are_quantized_too() -> None:
    names = ["/model.23/one2one_cv2.0/Conv", "/model.23/one2one_cv3.0/Conv", "/model.23/Add"]
    assert head_decode_nodes(graph_with(names)) == ["/model.23/Add"]


def test_a_graph_without_detect_head_is_refused() -> None:
    with pytest.raises(QuantizationError, match="no Detect head"):
        head_decode_nodes(graph_with(["/model.0/conv/Conv", "AveragePool"]))


def make_dataset(root: Path, smoke: int, fire: int, empty: int) -> Path:
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    kinds = [("s", "0 0.5 0.5 0.1 0.1\n")] * smoke + [("f", "1 0.5 0.5 0.1 0.1\n")] * fire
    kinds += [("e", "")] * empty
    for index, (prefix, label) in enumerate(kinds):
        (root / "images" / "train" / f"{prefix}{index:03d}.jpg").write_bytes(b"")
        (root / "labels" / "train" / f"{prefix}{index:03d}.txt").write_text(label)
    return root


def kinds_of(paths: list[Path]) -> dict[str, int]:
    return {kind: sum(path.name.startswith(kind) for path in paths) for kind in "sfe"}


def test_calibration_mix_is_a_third_smoke_a_sixth_fire(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path / "d", smoke=100, fire=100, empty=100)
    picked = pick_calibration_frames([dataset], 60, seed=1)
    assert kinds_of(picked) == {"s": 20, "f": 10, "e": 30}
    assert picked == pick_calibration_frames([dataset], 60, seed=1)  # seeded
    assert picked != pick_calibration_frames([dataset], 60, seed=2)


def test_short_pools_leave_their_share_to_the_others(tmp_path: Path) -> None:
    picked = pick_calibration_frames([make_dataset(tmp_path / "d", 30, 0, 5)], 12, seed=1)
    assert len(picked) == 12
    assert kinds_of(picked) == {"s": 7, "f": 0, "e": 5}


def test_calibration_reads_every_dataset_given(tmp_path: Path) -> None:
    lookout = make_dataset(tmp_path / "lookout", smoke=3, fire=0, empty=0)
    sky = make_dataset(tmp_path / "sky", smoke=0, fire=0, empty=3)
    picked = pick_calibration_frames([lookout, sky], 100, seed=1)
    assert kinds_of(picked) == {"s": 3, "f": 0, "e": 3}


def test_no_frames_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(QuantizationError, match="no calibration frames"):
        pick_calibration_frames([make_dataset(tmp_path / "d", 0, 0, 0)], 10, seed=1)


def test_calibration_reader_serves_letterboxed_chunks(tmp_path: Path) -> None:
    frames = []
    for index in range(5):
        path = tmp_path / f"{index}.jpg"
        cv2.imwrite(str(path), np.full((48, 64, 3), 40 * index, np.uint8))
        frames.append(path)
    reader = LetterboxCalibration(frames, 32, "images")
    assert len(reader) == 5
    reader.set_range(1, 3)
    served = [reader.get_next() for _ in range(3)]
    assert served[2] is None  # the chunk holds two frames
    first = served[0]
    assert first is not None
    assert first["images"].shape == (1, 3, 32, 32)
    assert first["images"].dtype == np.float32
    # 64x48 in a 32 square: 32x24 of picture, 4 rows of grey 114 padding above and below.
    assert first["images"][0, 0, 0, 0] == pytest.approx(114 / 255)
    assert first["images"][0, 0, 16, 16] == pytest.approx(40 / 255)


def test_calibration_reader_serves_the_rectangle_of_a_rectangular_model(tmp_path: Path) -> None:
    path = tmp_path / "frame.png"
    cv2.imwrite(str(path), np.full((48, 64, 3), 200, np.uint8))
    served = LetterboxCalibration([path], InputSize(32, 24), "images").get_next()
    assert served is not None
    assert served["images"].shape == (1, 3, 24, 32)  # N, C, H, W
    # 64x48 fills a 4:3 input: no grey padding anywhere.
    assert np.allclose(served["images"], 200 / 255)


def test_unreadable_calibration_frame_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    reader = LetterboxCalibration([tmp_path / "bad.jpg"], 32, "images")
    with pytest.raises(QuantizationError, match="not a readable image"):
        reader.get_next()


def test_unknown_calibration_is_refused(tmp_path: Path) -> None:
    with pytest.raises(QuantizationError, match="unknown calibration"):
        quantize_int8(tmp_path / "m.onnx", tmp_path / "q.onnx", [tmp_path / "f.jpg"], method="kl")


def test_every_float_scope_is_described_in_the_cards() -> None:
    assert set(FLOAT_SCOPE_TEXT) == set(FLOAT_SCOPES)
