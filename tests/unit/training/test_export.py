"""The export's pure parts: val-set specs, the gate, the operating threshold, run folders."""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks.metrics import ImageBoxes, match_class
from edge.detect.preprocess import InputSize
from vigifeu.training.evaluate import best_threshold, gate
from vigifeu.training.export import (
    ValSet,
    checkpoint_recipe,
    guess_run_dir,
    parse_input_size,
)
from vigifeu.training.recipe import load_recipe


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("hpwren=a/data.yaml", ValSet("hpwren", Path("a/data.yaml"), "val")),
        ("extra=b/data.yaml:test", ValSet("extra", Path("b/data.yaml"), "test")),
    ],
)
def test_val_set_spec(spec: str, expected: ValSet) -> None:
    assert ValSet.parse(spec) == expected


@pytest.mark.parametrize("spec", ["a/data.yaml", "=a/data.yaml", "hpwren="])
def test_bad_val_set_spec(spec: str) -> None:
    with pytest.raises(ValueError, match="LABEL=DATA_YAML"):
        ValSet.parse(spec)


def metrics(fp32: float | None, int8: float | None) -> dict[str, dict[str, Any]]:
    def doc(ap50: float | None) -> dict[str, Any]:
        return {"classes": {"smoke": {"ap50": ap50}, "fire": {"ap50": None}}}

    return {"fp32": {"lookout": doc(fp32)}, "int8": {"lookout": doc(int8)}}


@pytest.mark.parametrize(
    ("fp32", "int8", "passed"),
    [
        (0.80, 0.80, True),
        (0.80, 0.791, True),  # 0.9 point lost: allowed
        (0.80, 0.785, False),  # 1.5 points lost
        (0.80, 0.85, True),  # INT8 better (calibration noise)
        (0.80, 0.0, False),  # whole-graph quantization: no detections at all
        (0.80, None, False),  # no detection of the class at all
    ],
)
def test_gate(fp32: float, int8: float | None, passed: bool) -> None:
    result = gate(metrics(fp32, int8), "lookout", 0.01)
    assert result["passed"] is passed
    assert result["fp32_ap50"] == fp32


@dataclass
class FakeSplit:
    class_names: tuple[str, ...]


@dataclass
class FakeRun:
    split: FakeSplit
    matches: tuple[Any, ...]


def test_best_threshold_maximises_smoke_f1_on_the_grid() -> None:
    box = [0.1, 0.1, 0.3, 0.3]
    elsewhere = [0.6, 0.6, 0.8, 0.8]
    truth = [ImageBoxes.build([box], [0]) for _ in range(4)]
    # Each image: the plume found at 0.62, plus a false alarm at 0.41: F1 is 1 from 0.45 to
    # 0.60; the middle of that plateau is chosen.
    predictions = [ImageBoxes.build([box, elsewhere], [0, 0], [0.62, 0.41]) for _ in range(4)]
    run = FakeRun(FakeSplit(("smoke", "fire")), (match_class(truth, predictions, 0),))
    assert best_threshold(run) == 0.5


def test_guess_run_dir(tmp_path: Path) -> None:
    weights = tmp_path / "run" / "train" / "weights"
    weights.mkdir(parents=True)
    (weights / "best.pt").write_bytes(b"")
    assert guess_run_dir(weights / "best.pt") is None
    (tmp_path / "run" / "run.json").write_text("{}")
    assert guess_run_dir(weights / "best.pt") == (tmp_path / "run").resolve()


V1 = Path("models/recipes/smoke-fire-v1.yaml")
V2 = Path("models/recipes/smoke-fire-v2.yaml")


def test_a_run_checkpoint_is_exported_with_its_runs_recipe(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A --seed run differs from its recipe file: the run's recorded recipe is the one used,
    whatever --recipe says, and the recipe file's stem names the models."""
    ran = load_recipe(V2).model_copy(update={"seed": 7})
    run = {"recipe": ran.model_dump(), "recipe_file": str(V2)}
    (tmp_path / "run.json").write_text(json.dumps(run))
    with caplog.at_level(logging.WARNING):
        recipe, recipe_file = checkpoint_recipe(tmp_path, V1)
    assert recipe == ran
    assert recipe_file.stem == "smoke-fire-v2"
    assert "not models/recipes/smoke-fire-v1.yaml" in caplog.text
    assert checkpoint_recipe(tmp_path, None).recipe.seed == 7


def test_a_checkpoint_outside_a_run_needs_its_recipe_named() -> None:
    assert checkpoint_recipe(None, V2) == (load_recipe(V2), V2)
    with pytest.raises(ValueError, match="give --recipe"):
        checkpoint_recipe(None, None)


def test_an_unreadable_run_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text("{}")
    with pytest.raises(ValueError, match=r"run\.json: no readable recipe"):
        checkpoint_recipe(tmp_path, None)


@pytest.mark.parametrize(
    ("text", "expected"), [("640x480", InputSize(640, 480)), ("640", InputSize(640, 640))]
)
def test_input_size_option(text: str, expected: InputSize) -> None:
    assert parse_input_size(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("640x470", "multiple of 32"),  # ultralytics would round it up behind the registry's back
        ("640by480", "WIDTHxHEIGHT"),
        ("0x480", "positive"),
    ],
)
def test_bad_input_size_option(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse_input_size(text)


def test_best_threshold_goes_below_the_old_005_floor_for_low_scores() -> None:
    # An INT8 model's scores all sit lower: plumes at 0.035, false alarms at 0.012. F1 is 1
    # from 0.02 to 0.03 only, which a grid starting at 0.05 could not reach.
    box = [0.1, 0.1, 0.3, 0.3]
    elsewhere = [0.6, 0.6, 0.8, 0.8]
    truth = [ImageBoxes.build([box], [0]) for _ in range(4)]
    predictions = [ImageBoxes.build([box, elsewhere], [0, 0], [0.035, 0.012]) for _ in range(4)]
    run = FakeRun(FakeSplit(("smoke", "fire")), (match_class(truth, predictions, 0),))
    assert best_threshold(run) in (0.02, 0.03)
