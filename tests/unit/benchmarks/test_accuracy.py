"""``vigifeu bench accuracy`` and ``benchmarks.accuracy.evaluate`` on the tiny dataset."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from benchmarks.accuracy import evaluate
from edge.detect.registry import ModelIntegrityError
from tests.unit.benchmarks.synthetic import write_registry
from vigifeu.cli import main

OUTPUTS = (
    "metrics.json",
    "report.md",
    "pr_curve.png",
    "confidence_histogram.png",
    "worst_false_positives.png",
    "worst_misses.png",
)


def test_the_command_writes_metrics_report_and_plots(
    tiny_model: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    argv = ["bench", "accuracy", "--data", str(tiny_dataset), "--split", "val"]
    assert main([*argv, "--model", str(tiny_model), "--out", str(out)]) == 0
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    for name in OUTPUTS[2:]:
        assert cv2.imread(str(out / name)) is not None, name
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"images", "classes", "threshold", "views", "negatives", "model"}
    assert metrics["views"] == 2  # the frame and its mirror, as the edge runs by default
    assert metrics["images"] == 6
    assert metrics["threshold"] == 0.25  # ultralytics' default for an unregistered file
    smoke = metrics["classes"]["smoke"]
    # 5 plumes: 4 found (one dim plume missed); 2 clouds score 0.95 and 0.44: P = 4/6, R = 4/5.
    assert (smoke["boxes"], smoke["precision"], smoke["recall"]) == (5, 0.666667, 0.8)
    assert 0.5 < smoke["ap50"] < 1.0
    assert metrics["classes"]["fire"] == {
        "boxes": 0,
        "ap50": None,
        "ap50_95": None,
        "precision": None,
        "recall": None,
        "f1": None,
    }
    assert metrics["negatives"] == {"images": 2, "with_detection": 1}
    assert metrics["model"]["name"] == "tiny"
    report = (out / "report.md").read_text()
    assert "| smoke | 5 |" in report
    assert "bench accuracy --data" in report

    again = tmp_path / "again"
    assert main([*argv, "--model", str(tiny_model), "--out", str(again)]) == 0
    for name in ("metrics.json", *OUTPUTS[2:]):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_evaluate_by_registry_name_uses_the_registered_threshold(
    tiny_model: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    registry = write_registry(tmp_path / "models", tiny_model, score=0.5)
    metrics = evaluate("default", tiny_dataset, "val", registry=registry)
    assert metrics["threshold"] == 0.5
    assert metrics["model"]["name"] == "tiny-int8"
    # At 0.5 the 0.44 cloud drops out: P = 4/5.
    assert metrics["classes"]["smoke"]["precision"] == pytest.approx(0.8)
    assert metrics["negatives"]["with_detection"] == 0
    limited = evaluate("tiny-fp32", tiny_dataset, "val", registry=registry, threshold=0.9, limit=1)
    assert limited["images"] == 1
    assert limited["threshold"] == 0.9


def test_a_model_file_that_changed_is_refused(
    tiny_model: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    registry = write_registry(tmp_path / "models", tiny_model)
    with (tmp_path / "models" / "tiny-int8.onnx").open("ab") as stream:
        stream.write(b"\0")
    with pytest.raises(ModelIntegrityError, match="sha256 mismatch"):
        evaluate("default", tiny_dataset, "val", registry=registry)
    argv = ["bench", "accuracy", "--data", str(tiny_dataset), "--registry", str(registry)]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
