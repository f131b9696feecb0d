"""``vigifeu bench speed`` on the tiny model, and its pure parts: ratios, targets, FLOPs."""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from benchmarks.flops import count_gflops
from benchmarks.model import load_model
from benchmarks.speed import PATHS, STAGES, TARGETS, measure_paths, plan_paths, ratios, targets
from benchmarks.speed_worker import PathSpec
from edge.detect.preprocess import InputSize
from tests.unit.benchmarks.synthetic import write_registry
from tests.unit.edge.detect.conftest import build_rectangular_detector
from vigifeu.cli import main


def test_the_command_measures_every_path_side_by_side(
    tiny_model: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    registry = write_registry(tmp_path / "models", tiny_model)
    out = tmp_path / "out"
    images = tiny_dataset.parent / "images" / "val"
    argv = ["bench", "speed", "--registry", str(registry), "--images", str(images)]
    assert main([*argv, "--limit", "3", "--rounds", "2", "--threads", "1", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    paths = metrics["paths"]
    # The INT8 entry's registry parent is the FP32 path; no .pt beside it, so no torch path.
    assert paths["vigifeu_fp32"]["model"].endswith("tiny-fp32.onnx")
    assert "no PyTorch .pt" in paths["ultralytics_torch"]["skipped"]
    expected = ["vigifeu_int8", "vigifeu_fp32", "ultralytics_onnx", "ultralytics_onnx_int8"]
    if importlib.util.find_spec("ultralytics") is None:
        assert "not installed" in paths["ultralytics_onnx"]["skipped"]
        expected = expected[:2]
    else:
        # ultralytics' baseline is its FP32 export; the same INT8 file as vigifeu is the other.
        assert paths["ultralytics_onnx"]["model"].endswith("tiny-fp32.onnx")
        assert paths["ultralytics_onnx_int8"]["model"].endswith("tiny-int8.onnx")
        assert paths["ultralytics_onnx"]["imgsz"] == [320, 320]
        assert metrics["ratios"]["int8_vs_ultralytics_onnx_int8"] > 0
    assert metrics["input_size"] == "320x320"
    for name in expected:
        result = paths[name]
        assert result["input_px"] == "320x320"
        assert result["frames"] == 6  # 3 frames x 2 rounds
        assert result["fps"] > 0
        assert result["p95_ms"] >= result["p50_ms"] > 0
        assert set(result["stages"]) == set(STAGES)
        assert result["peak_rss_mb"] > 10
        assert result["cameras_per_core_at_10s"] > 0
    assert metrics["ratios"]["int8_vs_fp32"] > 0
    assert metrics["ratios"]["int8_vs_ultralytics_torch"] is None
    assert metrics["gflops_per_frame"] == 0.0  # the tiny graph has no Conv or MatMul
    assert metrics["targets"]["int8_vs_ultralytics_torch"]["met"] is None
    assert cv2.imread(str(out / "speed.png")) is not None
    assert "| vigifeu_int8 |" in (out / "report.md").read_text()


def test_ratios_and_targets() -> None:
    paths = {
        "vigifeu_int8": {"fps": 30.0, "pre_post_over_inference": 0.05},
        "vigifeu_fp32": {"fps": 15.0},
        "ultralytics_onnx": {"fps": 25.0},
        "ultralytics_onnx_int8": {"fps": 28.0},
        "ultralytics_torch": {"skipped": "no .pt"},
    }
    found = ratios(paths)
    assert found == {
        "int8_vs_fp32": 2.0,
        "int8_vs_ultralytics_onnx": 1.2,
        "int8_vs_ultralytics_onnx_int8": pytest.approx(30 / 28),
        "int8_vs_ultralytics_torch": None,
    }
    checks = targets(paths, found)
    # The ratio against ultralytics on the same INT8 file is informational: no target.
    assert list(checks) == [*TARGETS, "pre_post_over_inference"]
    assert [checks[key]["met"] for key in checks] == [None, False, True, True]


def test_ultralytics_runs_the_fp32_export_and_the_same_int8_file(tmp_path: Path) -> None:
    rect = build_rectangular_detector(tmp_path / "m-int8.onnx")
    fp32 = build_rectangular_detector(tmp_path / "m-fp32.onnx")
    model, parent = load_model(rect), load_model(fp32)
    checkpoint = tmp_path / "m-fp32.pt"
    specs, skipped = plan_paths(model, parent, checkpoint, threads=1, config_dir=tmp_path)
    by_name = {spec.name: spec for spec in specs}
    assert list(by_name) == list(PATHS)
    assert by_name["ultralytics_onnx"].model_path == fp32
    assert by_name["ultralytics_onnx_int8"].model_path == rect
    assert by_name["ultralytics_torch"].model_path == checkpoint
    # Every path is planned at the model's rectangle: torch predict gets it as imgsz.
    assert {spec.input_size for spec in specs} == {InputSize(320, 240)}
    assert skipped == {}


def test_without_fp32_parent_ultralytics_onnx_says_it_runs_the_model_file(tmp_path: Path) -> None:
    model = load_model(build_rectangular_detector(tmp_path / "m.onnx"))
    specs, skipped = plan_paths(model, None, None, threads=1, config_dir=tmp_path)
    [onnx_spec] = [spec for spec in specs if spec.name == "ultralytics_onnx"]
    assert onnx_spec.model_path == model.path
    assert "no FP32 parent" in str(onnx_spec.note)
    assert "already runs the model's own file" in skipped["ultralytics_onnx_int8"]


def test_flops_of_a_conv_and_a_matmul(tmp_path: Path) -> None:
    weight = numpy_helper.from_array(np.zeros((8, 3, 3, 3), np.float32), "w")
    matrix = numpy_helper.from_array(np.zeros((16, 4), np.float32), "m")
    shape = numpy_helper.from_array(np.array([1, 8 * 4, 16], np.int64), "s")
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1]),  # 1x8x16x16
            helper.make_node("Reshape", ["y", "s"], ["r"]),  # 1x32x16
            helper.make_node("MatMul", ["r", "m"], ["z"]),  # 1x32x4
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 32, 4])],
        [weight, matrix, shape],
    )
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    conv = 2 * (8 * 16 * 16) * (3 * 3 * 3)
    matmul = 2 * (32 * 4) * 16
    assert count_gflops(path) == pytest.approx((conv + matmul) / 1e9)


@pytest.fixture(scope="module")
def exported_checkpoint(yolo_checkpoint: Path) -> Path:
    """``yolo_checkpoint`` with ``yolo.onnx`` beside it: a static 320x256 (width x height) export."""
    from ultralytics import YOLO

    with warnings.catch_warnings():
        # The TorchScript exporter ultralytics calls warns (deprecation, tracer): not ours to fix.
        warnings.simplefilter("ignore")
        YOLO(str(yolo_checkpoint)).export(
            format="onnx", imgsz=[256, 320], simplify=False, verbose=False
        )
    return yolo_checkpoint


@pytest.mark.slow
def test_the_pytorch_baseline_runs_on_the_checkpoint_beside_the_model(
    exported_checkpoint: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    images = tiny_dataset.parent / "images" / "val"
    argv = ["bench", "speed", "--model", str(exported_checkpoint.with_suffix(".onnx"))]
    argv += ["--images", str(images), "--limit", "2", "--rounds", "1", "--out", str(out)]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert "no FP32 parent" in metrics["paths"]["vigifeu_fp32"]["skipped"]
    torch_path = metrics["paths"]["ultralytics_torch"]
    assert torch_path["model"] == str(exported_checkpoint)
    assert torch_path["frames"] == 2
    assert metrics["ratios"]["int8_vs_ultralytics_torch"] > 0
    # The torch path predicts at the model's rectangle, imgsz (height, width): a 640x480 frame
    # becomes 320x240, padded to 256 rows (stride 32), the very tensor of the ONNX paths.
    assert torch_path["imgsz"] == [256, 320]
    assert {path["input_px"] for path in metrics["paths"].values() if "input_px" in path} == {
        "320x256"
    }
    # YOLOv8n is 8.7 GFLOPs at 640x640 (thop), so 8.7 * 320 * 256 / 640**2 = 1.74 here; the
    # graph count skips a few ops.
    assert metrics["gflops_per_frame"] == pytest.approx(1.74, rel=0.1)


def test_a_path_that_cannot_load_is_skipped_with_its_reason(
    tiny_model: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")

    def spec(name: str, path: Path) -> PathSpec:
        return PathSpec(name, "vigifeu", path, InputSize(320, 320), 0.25, 0.45, 1, tmp_path)

    images = sorted((tiny_dataset.parent / "images" / "val").glob("*.jpg"))[:2]
    paths = measure_paths(
        [spec("vigifeu_int8", tiny_model), spec("vigifeu_fp32", broken)], images, 2
    )
    assert paths["vigifeu_int8"]["frames"] == 4
    assert "cannot load the ONNX model" in paths["vigifeu_fp32"]["skipped"]
