"""The CI training test: train 1 epoch on generated frames, export, quantize, gate, publish, and run
the INT8 model through the edge detector, all offline. And the gate refusing a broken INT8 model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import cv2
import onnx
import pytest
import yaml

from edge.config import Detector as DetectorConfig
from edge.detect.onnx_detector import open_detector
from edge.detect.preprocess import InputSize
from edge.detect.registry import load_registry, resolve_model
from edge.messages import DetectionClass, Frame
from tests.integration.training.conftest import TrainedTiny
from vigifeu.cli import main
from vigifeu.training.export import ExportPlan, ValSet, export_model
from vigifeu.training.publish import publish
from vigifeu.training.quantize import head_decode_nodes
from vigifeu.training.recipe import load_recipe

pytestmark = pytest.mark.slow


def val_positives(dataset: Path) -> list[tuple[Path, tuple[float, float, float, float]]]:
    """Val frames with a smoke box, and the box as normalised xyxy."""
    found = []
    for label in sorted((dataset / "labels" / "val").glob("*.txt")):
        for line in label.read_text().splitlines():
            _, cx, cy, w, h = map(float, line.split())
            image = dataset / "images" / "val" / f"{label.stem}.jpg"
            found.append((image, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)))
    return found


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_train_export_quantize_publish_and_run_int8(
    trained_tiny: TrainedTiny, tmp_path: Path
) -> None:
    run_dir = trained_tiny.run_dir
    assert len((run_dir / "train" / "results.csv").read_text().splitlines()) == 2  # 1 epoch
    # the checkpoint to export is the averaged one (recipe average_last_epochs)
    assert trained_tiny.checkpoint == run_dir / "train" / "weights" / "averaged.pt"
    assert json.loads((run_dir / "run.json").read_text())["transfer"] == {"init": "scratch"}
    models = tmp_path / "models"
    work = tmp_path / "work"
    argv = [
        "export",
        "--checkpoint", str(trained_tiny.checkpoint),
        "--recipe", str(trained_tiny.recipe),
        "--name", "ci-tiny",
        "--version", "0.1-avg",
        # The generated frames are 4:3: export at their aspect (the recipe trained at 128 square).
        "--input-size", "128x96",
        "--val", f"synthetic={trained_tiny.dataset / 'data.yaml'}",
        "--calibration", str(trained_tiny.dataset),
        "--calibration-frames", "16",
        "--work-dir", str(work),
        "--models-dir", str(models),
        "--run-dir", str(run_dir),
        "--set-default",
        # 6 val boxes: one box moving in the ranking is 2-17 AP points. The production gate
        # (1 point) needs the real val sets; here the gate must only let a sound INT8 through.
        "--max-ap50-drop", "0.2",
    ]  # fmt: skip
    assert main(argv) == 0

    # The training folder was only read: the export wrote beside its own copy of the checkpoint.
    assert sorted(p.name for p in trained_tiny.checkpoint.parent.iterdir()) == [
        "averaged.pt",
        "best.pt",
        "epoch0.pt",
        "last.pt",
        "resume_state.pt",
    ]
    outcome = json.loads((work / "export.json").read_text())
    assert outcome["gate"]["passed"] is True
    assert outcome["nodes_kept_float"] > 0

    registry = load_registry(models / "registry.yaml")
    assert registry.default == "ci-tiny-int8"
    fp32, int8 = registry.get("ci-tiny-fp32"), registry.get("ci-tiny-int8")
    assert (fp32.format, int8.format) == ("onnx-fp32", "onnx-int8")
    assert int8.parent == fp32.name
    assert fp32.parent == "ci-tiny-0.1-avg-fp32.pt"
    assert (models / fp32.parent).is_file()
    assert int8.input_shape == InputSize(128, 96)
    assert "1x3x96x128" in (models / str(int8.card)).read_text()
    assert (
        int8.metrics["synthetic"]["classes"]["smoke"]["ap50"]
        == outcome["metrics"]["int8"]["synthetic"]["classes"]["smoke"]["ap50"]
    )
    card = (models / str(int8.card)).read_text()
    assert "scratch" in card
    assert "best smoke F1 on the gate set" in card  # no --score-threshold was given
    assert (models / "cards" / "ci-tiny-training.png").read_bytes()[:4] == b"\x89PNG"

    # Real INT8: QDQ pairs in the backbone, the Detect-head decode left in float.
    graph = onnx.load(str(models / int8.file)).graph
    assert sum(node.op_type == "QuantizeLinear" for node in graph.node) > 50
    float_nodes = set(head_decode_nodes(onnx.load(str(models / fp32.file))))
    softmaxes = [node for node in graph.node if node.op_type == "Softmax"]
    assert [node.name.endswith("/last_axis/Softmax") for node in softmaxes] == [True]  # DFL rewrite
    produced_by = {output: node for node in graph.node for output in node.output}
    for node in graph.node:
        if node.name in float_nodes and node.op_type in ("Softmax", "Sigmoid"):
            assert all(
                produced_by.get(i) is None or produced_by[i].op_type != "DequantizeLinear"
                for i in node.input
            )

    # The edge loads it by registry name (sha256 checked) and, at the model's operating score,
    # finds the generated smoke.
    resolve_model(models / "registry.yaml", "default")
    detector = open_detector(
        DetectorConfig(model="default", registry=models / "registry.yaml"), int8.thresholds.score
    )
    assert detector.input_size == InputSize(128, 96)  # the file's shape, matching the registry
    hits = 0
    positives = val_positives(trained_tiny.dataset)
    for sequence, (image_path, truth) in enumerate(positives):
        frame = Frame("ci", None, sequence, datetime.now(UTC), cv2.imread(str(image_path)))
        found = detector.detect([frame])[0].detections
        hits += any(
            d.detection_class is DetectionClass.SMOKE
            and iou((d.x_min, d.y_min, d.x_max, d.y_max), truth) > 0.3
            for d in found
        )
    assert hits >= len(positives) // 2


def test_gate_refuses_a_whole_graph_int8(trained_tiny: TrainedTiny, tmp_path: Path) -> None:
    """Quantizing the head decode too zeroes every score (research/toolchain.md §2): refused."""
    plan = ExportPlan(
        checkpoint=trained_tiny.checkpoint,
        name="ci-broken",
        version="0.1-e1",
        image_size=128,
        work_dir=tmp_path / "work",
        val_sets=(ValSet("synthetic", trained_tiny.dataset / "data.yaml"),),
        calibration_datasets=(trained_tiny.dataset,),
        calibration_frames=16,
        whole_graph=True,
        run_dir=trained_tiny.run_dir,
    )
    outcome = export_model(plan)
    assert not outcome.passed
    assert [t["float_scope"] for t in outcome.tries] == [None, None, None]
    assert all(t["int8_ap50"] == 0.0 and not t["passed"] for t in outcome.tries)
    assert outcome.gate["fp32_ap50"] > 0.3  # the parent does detect: the loss is the INT8's
    models = tmp_path / "models"
    with pytest.raises(ValueError, match="did not pass the gate"):
        publish(outcome, models, load_recipe(trained_tiny.recipe), set_default=True)
    assert not models.exists()
    # The refused model stays in the work folder for inspection, beside its numbers.
    scratch = yaml.safe_load((tmp_path / "work" / "registry.yaml").read_text())
    assert [m["name"] for m in scratch["models"]] == ["ci-broken-fp32", "ci-broken-int8"]
