"""``vigifeu bench input-size``: the choice rule, the settings, and one real run on a tiny YOLO."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.input_size import InputSizeError, Setting, operating_point, settings_of
from benchmarks.input_size_metrics import Candidate, decide
from benchmarks.input_size_report import frame_sizes_text
from tests.unit.benchmarks.synthetic import write_registry
from vigifeu.cli import main


def table(*rows: tuple[str, float | None, float]) -> list[Candidate]:
    return [Candidate(label, ap50, cost_ms) for label, ap50, cost_ms in rows]


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        # The biggest input is best by 4 points: it wins whatever it costs.
        (table(("640", 0.50, 100), ("800", 0.52, 160), ("960", 0.54, 230)), "960"),
        # 800 is within one point of 960 and cheaper; 640 is not within one point.
        (table(("640", 0.50, 100), ("800", 0.535, 160), ("960", 0.54, 230)), "800"),
        # Exactly one point below the best is still "within one point".
        (table(("640", 0.53, 100), ("800", 0.54, 160)), "640"),
        # The smallest input is best: bigger ones only cost more.
        (table(("640", 0.58, 100), ("800", 0.57, 160), ("960", 0.55, 230)), "640"),
        # Tiling at 640 costs 5 passes; within a point of 640, so 640 wins.
        (table(("640", 0.60, 100), ("640 2x2 tiles", 0.605, 500)), "640"),
        # Same cost: the higher AP50.
        (table(("a", 0.50, 100), ("b", 0.505, 100)), "b"),
        # A setting without AP (no detection data) never wins; none at all: no choice.
        (table(("640", None, 100), ("800", 0.1, 160)), "800"),
        (table(("640", None, 100)), None),
        ([], None),
    ],
)
def test_the_choice_rule_on_point_estimates(
    candidates: list[Candidate], expected: str | None
) -> None:
    assert decide(candidates).choice == expected


def resampled(label: str, ap50: float, cost_ms: float, rounds: list[float]) -> Candidate:
    return Candidate(label, ap50, cost_ms, np.array(rounds))


def test_a_bigger_input_must_be_ahead_beyond_the_noise_to_win() -> None:
    # 800 is 2 points ahead on the point estimates, but 640 beats it in some rounds.
    noisy = [
        resampled("640", 0.57, 100, [0.50, 0.55, 0.57, 0.60, 0.64]),
        resampled("800", 0.59, 160, [0.55, 0.57, 0.59, 0.58, 0.63]),
    ]
    decision = decide(noisy)
    assert (decision.best, decision.choice) == ("800", "640")
    assert decision.gap_to_best["800"] == 0.0
    assert decision.gap_to_best["640"] < 0.01
    # Ahead by 2 to 3 points in every round: the bigger input wins.
    clear = [
        resampled("640", 0.57, 100, [0.50, 0.55, 0.57, 0.60, 0.64]),
        resampled("800", 0.595, 160, [0.52, 0.575, 0.595, 0.625, 0.67]),
    ]
    assert decide(clear).choice == "800"


def test_settings_are_sorted_and_tiles_go_to_the_smallest_size() -> None:
    assert settings_of([960, 640, 800, 640], tiles=True) == (
        Setting(640),
        Setting(800),
        Setting(960),
        Setting(640, 2),
    )
    assert Setting(640, 2).label == "640 2x2 tiles"


@pytest.mark.parametrize("sizes", [[], [650], [0]])
def test_sizes_off_the_model_stride_are_refused(sizes: list[int]) -> None:
    with pytest.raises(InputSizeError, match="multiples of 32"):
        settings_of(sizes, tiles=False)


def test_the_operating_point_is_the_entry_derived_from_the_checkpoint(
    tiny_model: Path, tmp_path: Path
) -> None:
    registry = write_registry(tmp_path / "models", tiny_model, score=0.3)
    # In this registry 'tiny-int8' names 'tiny-fp32' as its parent.
    assert operating_point(tmp_path / "tiny-fp32", registry) == (0.3, 0.45, "tiny-int8")
    assert operating_point(tmp_path / "other.pt", registry) == (0.25, 0.45, None)


def test_the_command_exports_each_size_and_writes_metrics_report_and_plot(
    yolo_checkpoint: Path, tiny_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    argv = ["bench", "input-size", "--checkpoint", str(yolo_checkpoint)]
    argv += ["--data", str(tiny_dataset), "--sizes", "96", "64", "--tiles", "2x2"]
    argv += ["--registry", str(tmp_path / "none.yaml"), "--threads", "1", "--out", str(out)]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images"] == 6
    assert metrics["frame_sizes"] == {"640x480": 6}
    assert metrics["threshold"] == 0.25
    assert metrics["operating_point_from"] is None
    assert [row["label"] for row in metrics["settings"]] == ["64", "96", "64 2x2 tiles"]
    for row in metrics["settings"]:
        assert Path(row["onnx"]) == out / "onnx" / f"input-{row['size_px']}-fp32.onnx"
        assert set(row["classes"]) == {"smoke", "fire"}
        smoke = row["classes"]["smoke"]
        expected = {"ap50", "ap50_95", "recall", "ap50_ci95", "small_boxes", "small_recall"}
        assert expected <= set(smoke)
        assert row["smoke_ap50_gap_to_best"] is not None
        assert smoke["boxes"] == 5
        assert row["negatives"]["images"] == 2
        assert row["inference_ms_p50"] > 0
        assert row["total_ms_p50"] >= row["inference_ms_p50"]
    assert metrics["choice"] in {"64", "96", "64 2x2 tiles"}
    assert metrics["rule"]["bootstrap_rounds"] == 1000
    report = (out / "report.md").read_text()
    assert "vigifeu bench input-size --checkpoint" in report
    assert f"**Choice: {metrics['choice']}** (best smoke AP50: " in report
    assert cv2.imread(str(out / "ap50_vs_ms.png")) is not None


def test_a_missing_checkpoint_is_an_input_error(tiny_dataset: Path, tmp_path: Path) -> None:
    argv = ["bench", "input-size", "--checkpoint", str(tmp_path / "nope.pt")]
    assert main([*argv, "--data", str(tiny_dataset), "--out", str(tmp_path / "out")]) == 2


@pytest.mark.parametrize(
    ("frame_sizes", "expected"),
    [
        ({"640x480": 126}, "126 x 640x480 px"),
        (
            {"1280x720": 1, "300x168": 8, "512x512": 3, "259x194": 2},
            "4 frame sizes, long side 259–1280 px (median 300), most common 8 x 300x168",
        ),
    ],
)
def test_the_report_summarises_many_frame_sizes(frame_sizes: dict[str, int], expected: str) -> None:
    assert frame_sizes_text(frame_sizes) == expected
