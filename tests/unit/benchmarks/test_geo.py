"""``vigifeu bench geo`` on a tiny run: the metrics file has exactly the agreed shape."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import geo


def run_bench(out: Path, *extra: str) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    geo.add_arguments(parser)
    assert (
        geo.run(parser.parse_args(["--out", str(out), "--fires", "3", "--seed", "7", *extra])) == 0
    )
    metrics: dict[str, Any] = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    return metrics


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench_geo")
    return out, run_bench(out)


def test_metrics_have_the_agreed_keys(tiny_run: tuple[Path, dict[str, Any]]) -> None:
    _, metrics = tiny_run
    assert set(metrics) == {"one_camera", "two_cameras", "attribution", "sweep"}
    assert set(metrics["one_camera"]) == {"n", "located", "median_m", "p90_m"}
    assert set(metrics["two_cameras"]) == {"n", "median_m", "p90_m"}
    assert set(metrics["attribution"]) == {"dfci_correct", "commune_correct", "massif_correct"}
    sweep = metrics["sweep"]
    assert isinstance(sweep, list)
    assert [row["bearing_sigma_deg"] for row in sweep] == [0.1, 0.3, 0.5, 1.0]
    assert all(
        set(row) == {"bearing_sigma_deg", "two_cameras_median_m", "one_camera_median_m"}
        for row in sweep
    )


def test_counts_and_errors_are_sane(tiny_run: tuple[Path, dict[str, Any]]) -> None:
    _, metrics = tiny_run
    one, two = metrics["one_camera"], metrics["two_cameras"]
    assert isinstance(one, dict)
    assert isinstance(two, dict)
    assert one["n"] == 3
    assert two["n"] == 3
    assert 0 <= one["located"] <= 3
    assert two["median_m"] is not None
    assert 0 <= two["median_m"] < 5_000


def test_report_and_plots_are_written(tiny_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = tiny_run
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "cabanelle" in report
    assert "plausible: DEM summit" in report
    for plot in ("error_vs_range.png", "error_vs_cut_angle.png"):
        assert (out / plot).read_bytes()[:4] == b"\x89PNG"


def test_same_seed_same_metrics(tiny_run: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    _, metrics = tiny_run
    assert run_bench(tmp_path) == metrics
