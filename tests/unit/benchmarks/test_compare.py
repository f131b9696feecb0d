"""``vigifeu bench compare`` and the paired bootstrap under it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks.accuracy import evaluate
from benchmarks.bootstrap import interval95, resample_counts, resampled_ap50
from benchmarks.metrics import ImageBoxes, average_precision, match_class
from tests.support.tiny_model import build_tiny_detector
from vigifeu.cli import main


def test_resampled_ap50_repeats_the_drawn_images() -> None:
    box, elsewhere = [0.1, 0.1, 0.3, 0.3], [0.6, 0.6, 0.8, 0.8]
    truths = [ImageBoxes.build([box], [0]), ImageBoxes.build([box], [0])]
    # Image 0: the plume found at 0.9. Image 1: a false alarm at 0.8, the plume missed.
    predictions = [ImageBoxes.build([box], [0], [0.9]), ImageBoxes.build([elsewhere], [0], [0.8])]
    matches = match_class(truths, predictions, 0)
    counts = np.array([[1, 1], [2, 0], [0, 2]])
    rounds = resampled_ap50(matches, np.array([1, 1]), counts)
    both = average_precision(matches.matched[0], 2)
    assert rounds.tolist() == pytest.approx([both, 1.0, 0.0])
    drawn = resample_counts(7, rounds=50, seed=3)
    assert drawn.shape == (50, 7)
    assert (drawn.sum(axis=1) == 7).all()
    assert (drawn == resample_counts(7, rounds=50, seed=3)).all()


def test_the_interval_skips_rounds_without_boxes() -> None:
    rounds = np.array([np.nan, *np.linspace(0.0, 1.0, 41), np.nan])
    low, high = interval95(rounds) or (None, None)
    assert (low, high) == pytest.approx((0.025, 0.975))
    assert interval95(np.array([np.nan, np.nan])) is None


def run_compare(models: list[Path], data: Path, out: Path, *extra: str) -> int:
    argv = ["bench", "compare", "--data", str(data), "--rounds", "200", "--out", str(out)]
    return main([*argv, "--models", *map(str, models), *extra])


def test_a_copy_is_within_noise_and_a_weaker_model_is_scored_apart_from_it(
    tiny_model: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.onnx"
    shutil.copyfile(tiny_model, copy)
    # Needs a brighter patch: the grey-200 plume of the tiny dataset scores under the AP floor.
    weaker = build_tiny_detector(tmp_path / "weaker.onnx", brightness_threshold=0.97)
    out = tmp_path / "out"
    assert run_compare([tiny_model, copy, weaker], tiny_dataset, out, "--no-mirror") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    reference = evaluate(tiny_model, tiny_dataset, "val")["classes"]["smoke"]["ap50"]
    weaker_ap50 = evaluate(weaker, tiny_dataset, "val")["classes"]["smoke"]["ap50"]
    assert weaker_ap50 < reference
    scored = [entry["classes"]["smoke"]["ap50"] for entry in metrics["models"]]
    assert scored == pytest.approx([reference, reference, weaker_ap50], abs=1e-6)
    assert metrics["reference"] == str(tiny_model)
    assert list(metrics["spread"]) == ["smoke"]  # the tiny dataset labels no fire
    same, lower = (row["classes"]["smoke"] for row in metrics["differences"])
    assert same == {"ap50": 0.0, "ci95": [0.0, 0.0], "within_noise": True}
    assert lower["ap50"] == pytest.approx(weaker_ap50 - reference, abs=1e-6)
    assert lower["ci95"][0] <= lower["ci95"][1] <= 0.0
    spread = metrics["spread"]["smoke"]
    assert spread["models"] == 3
    assert spread["mean"] == pytest.approx((2 * reference + weaker_ap50) / 3, abs=1e-6)
    assert (spread["min"], spread["max"]) == pytest.approx((weaker_ap50, reference), abs=1e-6)
    assert metrics["views"] == 1
    report = (out / "report.md").read_text()
    assert "| reference |" in report
    assert "+0.000 [+0.000, +0.000]: within noise" in report
    assert "--no-mirror" in report


def test_one_model_or_a_missing_file_is_refused_with_exit_2(
    tiny_model: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    assert run_compare([tiny_model], tiny_dataset, tmp_path / "one") == 2
    assert run_compare([tiny_model, tiny_model], tiny_dataset, tmp_path / "same") == 2
    absent = tmp_path / "absent.onnx"
    assert run_compare([tiny_model, absent], tiny_dataset, tmp_path / "absent") == 2
    assert not (tmp_path / "one").exists()
