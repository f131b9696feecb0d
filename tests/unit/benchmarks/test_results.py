"""``vigifeu bench all``: the planned steps, RESULTS.md from a run, and failures kept apart."""

from __future__ import annotations

import argparse
import json
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks import cli
from benchmarks.results import (
    BenchRun,
    Group,
    Options,
    Step,
    StepResult,
    detector_steps,
    service_steps,
)
from benchmarks.results_report import results_markdown
from tests.unit.benchmarks.synthetic import write_registry, write_sequences, write_tiny_dataset
from vigifeu.cli import main

GEO_FIRES = ["--geo-fires", "3"]  # a 3-fire geo run takes seconds; the default 300 about 80 s
OPTIONS = Options(threads=2, speed_limit=5, speed_rounds=1)


def all_argv(shared: Path, registry: Path, tmp_path: Path, *extra: str) -> list[str]:
    argv = ["bench", "all", "--shared", str(shared), "--registry", str(registry)]
    return [*argv, "--out", str(tmp_path / "bench"), "--results", str(tmp_path / "R.md"), *extra]


def test_plan_runs_the_fp32_parent_and_the_extra_train_split() -> None:
    keys = [s.key for s in detector_steps(Path("s"), "m", "p", Path("r.yaml"), Path("o"), OPTIONS)]
    assert keys == [
        "accuracy_hpwren",
        "accuracy_extra",
        "accuracy_hpwren_fp32",
        "accuracy_extra_fp32",
        "accuracy_hpwren_single",
        "accuracy_hpwren_fp32_single",
        "accuracy_extra_train",
        "robustness",
        "sequences",
        "speed",
    ]
    without = detector_steps(Path("s"), "m", None, Path("r.yaml"), Path("o"), OPTIONS)
    assert [s.key for s in without] == [
        "accuracy_hpwren",
        "accuracy_extra",
        "accuracy_hpwren_single",
        "accuracy_extra_train",
        "robustness",
        "sequences",
        "speed",
    ]
    assert without[2].command == (
        "vigifeu bench accuracy --data s/datasets/wildfire_smoke_hpwren/data.yaml --split val "
        "--model m --registry r.yaml --threads 2 --no-mirror --out o/accuracy_hpwren_single"
    )
    assert without[3].command == (
        "vigifeu bench accuracy --data s/datasets/wildfire_extra/data.yaml --split train "
        "--model m --registry r.yaml --threads 2 --out o/accuracy_extra_train"
    )
    assert without[-1].command == (
        "vigifeu bench speed --model m --registry r.yaml --threads 2 --images "
        "s/datasets/wildfire_smoke_hpwren/images/val --limit 5 --rounds 1 --out o/speed"
    )


def test_service_steps_are_commands_of_their_own_modules() -> None:
    geo, ingest, ingest_2, footprint = service_steps(
        Path("r.yaml"), Path("o"), Options(ingest_fires=4)
    )
    assert geo.command == (
        "vigifeu bench geo --fires 300 --bearing-sigma-deg 0.3 --tilt-sigma-deg 0.1 "
        "--max-range-km 20 --out o/geo"
    )
    assert ingest.command == "vigifeu bench ingest --fires 4 --updates 8 --out o/ingest"
    assert ingest_2.command == (
        "vigifeu bench ingest --fires 4 --updates 8 --instances 2 --out o/ingest_2_instances"
    )
    assert footprint.command == (
        "vigifeu bench edge-footprint --cameras 1 4 --registry r.yaml "
        "--output o/edge_footprint/metrics.json"
    )
    assert footprint.out == Path("o/edge_footprint")


def test_the_all_command_line_spells_its_switches_so_that_they_parse_back() -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    argv = ["all", "--shared", "s", "--out", "o", "--results", "R.md", "--no-ingest"]
    args = parser.parse_args([*argv, "--edge-footprint"])
    line = cli.command_line(args)
    assert "--no-ingest" in line.split()
    assert "--edge-footprint" in line.split()
    assert parser.parse_args(line.split()[2:]) == args


def test_without_a_registry_geo_runs_and_the_detector_awaits_a_model(tmp_path: Path) -> None:
    registry = tmp_path / "none.yaml"
    argv = all_argv(tmp_path, registry, tmp_path, *GEO_FIRES, "--no-ingest")
    assert main(argv) == 0
    text = (tmp_path / "R.md").read_text()
    assert "**The detector sections await a shipped model**" in text
    assert f"| accuracy_hpwren | awaits a shipped model | {registry} does not exist yet |" in text
    assert "| ingest | skipped | --no-ingest was given |" in text
    assert "| geo | done |" in text
    assert "| one camera + terrain | 3 |" in text
    assert "| 1 |" in text  # the sweep's last row: bearing sigma 1 deg
    assert "vigifeu bench geo --fires 3 --bearing-sigma-deg 0.3" in text
    assert not (tmp_path / "bench" / "accuracy_hpwren").exists()
    geo = json.loads((tmp_path / "bench" / "geo" / "metrics.json").read_text())
    assert f"| two cameras | 3 | – | {geo['two_cameras']['median_m']:.0f} |" in text


def test_a_failing_step_is_reported_and_the_others_still_run(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--out", type=Path)
        parser.add_argument("--fires")
        parser.add_argument("--updates")

    def run(args: argparse.Namespace) -> int:
        raise RuntimeError("broker went away")

    fake = types.SimpleNamespace(add_arguments=add_arguments, run=run)
    monkeypatch.setitem(sys.modules, "benchmarks.ingest", fake)
    registry = write_registry(tmp_path / "models", tiny_model)
    empty_shared = tmp_path / "shared"  # no datasets: every detector step fails on its input
    assert main(all_argv(empty_shared, registry, tmp_path, *GEO_FIRES)) == 1
    text = (tmp_path / "R.md").read_text()
    assert "| accuracy_hpwren | FAILED | " in text
    assert "wildfire_smoke_hpwren/data.yaml: cannot read" in text
    assert "| ingest | FAILED | RuntimeError: broker went away |" in text
    assert "| geo | done |" in text
    assert "Model `tiny-int8` 1 (sha256" in text


def test_a_step_whose_options_changed_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--out", type=Path)  # no --fires: the plan no longer fits

    fake = types.SimpleNamespace(add_arguments=add_arguments, run=lambda args: 0)
    monkeypatch.setitem(sys.modules, "benchmarks.ingest", fake)
    assert main(all_argv(tmp_path, tmp_path / "none.yaml", tmp_path, *GEO_FIRES)) == 1
    text = (tmp_path / "R.md").read_text()
    assert "| ingest | FAILED | command line rejected (exit 2;" in text


GROUPS: dict[str, Group] = {
    "geo": "geo",
    "ingest": "ingest",
    "ingest_2_instances": "ingest",
    "edge_footprint": "edge_footprint",
}


def rendered(metrics: dict[str, dict[str, Any] | None]) -> str:
    """RESULTS.md of a run whose steps gave these metrics (None: the step failed)."""
    results = {
        key: StepResult(
            Step(key, GROUPS.get(key, "detector"), (key,), Path(key)),
            "done" if value is not None else "failed",
            value,
            None if value is not None else "it broke",
            datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        )
        for key, value in metrics.items()
    }
    return results_markdown(
        BenchRun("vigifeu bench all", "abc1234", (), datetime.now(UTC), None, results)
    )


def accuracy_metrics(images: int, flagged: int) -> dict[str, Any]:
    smoke = {"boxes": 0, "ap50": None, "ap50_95": None, "precision": None, "recall": None}
    return {
        "images": images,
        "classes": {"smoke": {**smoke, "f1": None}},
        "threshold": 0.4,
        "negatives": {"images": images, "with_detection": flagged},
        "model": {"name": "m", "sha256": "0" * 64},
    }


@pytest.mark.parametrize(
    ("val", "train", "expected"),
    [
        (
            (122, 3),
            (691, 20),
            [
                "| val | 3 / 122 (2.5 %) |",
                "| train | 20 / 691 (2.9 %) |",
                "Over both splits: 23 / 813 (2.8 %) images with a detection.",
                "Target under 5 % on val: 2.5 %, met.",
            ],
        ),
        (
            (122, 9),
            None,
            ["| val | 9 / 122 (7.4 %) |", "Train split not measured", "7.4 %, NOT met."],
        ),
    ],
)
def test_negatives_section_reports_both_splits_and_the_honest_val_figure(
    val: tuple[int, int], train: tuple[int, int] | None, expected: list[str]
) -> None:
    text = rendered(
        {
            "accuracy_extra": accuracy_metrics(*val),
            "accuracy_extra_train": accuracy_metrics(*train) if train else None,
        }
    )
    for line in expected:
        assert line in text
    assert "partly seen in training" in text or train is None
    assert "# accuracy_extra: done, 2026-01-02 03:04 UTC" in text


def test_ingest_and_footprint_sections_from_their_metrics() -> None:
    ingest = {
        "alerts": 1200,
        "raw_broker_msgs_per_s": [1000.0, 1010.0],
        "central_msgs_per_s": 600.0,
        "ratio": 0.597,
        "target_ratio": 0.5,
        "latency_ms": {"p50": 30.1, "p95": 70.2},
        "raw_cpu_ms_per_msg": {"broker": 0.061, "clients": 0.29},
        "central_run_cpu_ms_per_msg": {"broker": 0.12, "publishers": 0.2},
        "cores": 2,
        "machine_ceiling_msgs_per_s": 1175.4,
        "incidents_with_several_fires": 3,
        "fires_over_several_incidents": 5,
    }
    footprint = {
        "model": "tiny test detector",
        "clip": "clip.mp4",
        "cadence_s": 10.0,
        "cpu_count": 2,
        "runs": [
            {
                "cameras": 1,
                "rss_mean_mib": 200.0,
                "rss_peak_mib": 210.0,
                "cpu_percent_of_one_core": 3.0,
            },
            {
                "cameras": 4,
                "rss_mean_mib": 260.0,
                "rss_peak_mib": 270.0,
                "cpu_percent_of_one_core": 9.0,
            },
        ],
        "per_camera": {"rss_mib": 20.0, "cpu_percent_of_one_core": 2.0},
    }
    text = rendered({"ingest": ingest, "edge_footprint": footprint})
    assert "`ingest`: central / raw broker rate 0.597 (target >= 0.5): met." in text
    assert "| raw broker (mosquitto_pub -> mosquitto_sub), msg/s | 1000 / 1010 |" in text
    assert "| central ingest, msg/s | 600 |" in text
    assert "| latency publish -> stored, p50 / p95 ms | 30 / 70 |" in text
    assert "| raw run CPU per message: broker / Mosquitto clients, ms | 0.06 / 0.29 |" in text
    assert (
        "| incidents holding several fires / fires split over several incidents | 3 / 5 |" in text
    )
    assert "| central run CPU per message: broker / publishers, ms | 0.12 / 0.20 |" in text
    assert (
        "| ceiling on this machine: cores / CPU of all processes per message, msg/s"
        " | 2 cores: 1175 |"
    ) in text
    assert "| 4 | 260 | 270 | 9.0 |" in text
    assert "Per extra camera: 20.0 MiB, 2.00 % of one core." in text


def test_one_and_two_central_instances_side_by_side() -> None:
    one = {"central_msgs_per_s": 600.0, "ratio": 0.2, "target_ratio": 0.5}
    two = {
        "central_msgs_per_s": 1000.0,
        "ratio": 0.51,
        "target_ratio": 0.5,
        "central_counters": [{"conflict_retries": 2}, {"conflict_retries": 1, "quarantined": 3}],
    }
    text = rendered({"ingest": one, "ingest_2_instances": two})
    assert "| measure | `ingest` | `ingest_2_instances` |" in text
    assert "| central ingest, msg/s | 600 | 1000 |" in text
    assert (
        "| batches stored again after another instance's commit / messages quarantined"
        " | 0 / 0 | 3 / 3 |"
    ) in text
    assert "`ingest`: central / raw broker rate 0.200 (target >= 0.5): NOT met." in text
    assert "`ingest_2_instances`: central / raw broker rate 0.510 (target >= 0.5): met." in text


def test_a_section_whose_metrics_changed_shape_says_so_and_the_rest_renders() -> None:
    text = rendered({"geo": {"one_camera": {}}, "ingest": {"ratio": 0.2, "target_ratio": 0.5}})
    assert (
        "**Could not render this section** from its metrics.json: KeyError('two_cameras')" in text
    )
    assert "`ingest`: central / raw broker rate 0.200 (target >= 0.5): NOT met." in text


@pytest.mark.slow
def test_all_refreshes_results_from_the_shared_tree(tiny_model: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    hpwren = shared / "datasets" / "wildfire_smoke_hpwren"
    write_tiny_dataset(hpwren)
    write_tiny_dataset(shared / "datasets" / "wildfire_extra")
    write_sequences(hpwren / "sequences")
    registry = write_registry(tmp_path / "models", tiny_model)
    speed = ["--speed-limit", "2", "--speed-rounds", "1"]
    assert main(all_argv(shared, registry, tmp_path, *speed, *GEO_FIRES, "--no-ingest")) == 0
    text = (tmp_path / "R.md").read_text()
    steps = ("accuracy_hpwren", "accuracy_extra_fp32", "accuracy_extra_train", "robustness")
    for key in (*steps, "sequences"):
        assert (tmp_path / "bench" / key / "metrics.json").is_file(), key
    assert "| hpwren | tiny-int8 | frame + mirror | smoke | 5 |" in text
    assert "| hpwren_single | tiny-int8 | frame | smoke | 5 |" in text
    assert "| hpwren_fp32 | tiny-fp32 | frame + mirror | smoke | 5 |" in text
    assert "| extra_train |" not in text  # the train split only feeds the negatives section
    assert "INT8 minus FP32 smoke AP50 on hpwren val: +0.00 points" in text
    assert "(target: at most 1 point below): met" in text
    assert "Over both splits: 0 / 2 (0.0 %) images with a detection." in text
    assert "2 of 3 sequences with smoke detected; false alarms: 1" in text
    assert "## Robustness to camera changes (hpwren val)" in text
    assert "| `noise-8` | sensor noise at dusk (Gaussian, 8 grey levels) |" in text
    assert f"vigifeu bench robustness --data {hpwren}/data.yaml --split val" in text
    assert "| vigifeu_int8 |" in text
    assert f"vigifeu bench sequences --sequences {hpwren}/sequences/sequences.csv" in text
    assert "vigifeu bench all --shared" in text
    assert "| geo | done |" in text
