"""``vigifeu bench all``: the standard steps on a shared-data tree, and RESULTS.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.results import plan
from tests.unit.benchmarks.synthetic import write_registry, write_sequences, write_tiny_dataset
from vigifeu.cli import main


def test_plan_runs_the_fp32_parent_too_when_there_is_one() -> None:
    keys = [
        step.key
        for step in plan(
            Path("s"), "m", "p", Path("r.yaml"), Path("o"), threads=2, speed_limit=5, speed_rounds=1
        )
    ]
    assert keys == [
        "accuracy_hpwren",
        "accuracy_extra",
        "accuracy_hpwren_fp32",
        "accuracy_extra_fp32",
        "sequences",
        "speed",
    ]
    without = plan(
        Path("s"), "m", None, Path("r.yaml"), Path("o"), threads=2, speed_limit=5, speed_rounds=1
    )
    assert [step.key for step in without] == [
        "accuracy_hpwren",
        "accuracy_extra",
        "sequences",
        "speed",
    ]
    assert without[-1].command == (
        "vigifeu bench speed --model m --registry r.yaml --threads 2 --images "
        "s/datasets/wildfire_smoke_hpwren/images/val --limit 5 --rounds 1 --out o/speed"
    )


@pytest.mark.slow
def test_all_refreshes_results_from_the_shared_tree(tiny_model: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    hpwren = shared / "datasets" / "wildfire_smoke_hpwren"
    write_tiny_dataset(hpwren)
    write_tiny_dataset(shared / "datasets" / "wildfire_extra")
    write_sequences(hpwren / "sequences")
    registry = write_registry(tmp_path / "models", tiny_model)
    results = tmp_path / "RESULTS.md"
    argv = ["bench", "all", "--shared", str(shared), "--registry", str(registry)]
    argv += ["--out", str(tmp_path / "bench"), "--results", str(results)]
    assert main([*argv, "--speed-limit", "2", "--speed-rounds", "1"]) == 0
    text = results.read_text()
    for key in ("accuracy_hpwren", "accuracy_extra_fp32", "sequences", "speed"):
        assert (tmp_path / "bench" / key / "metrics.json").is_file(), key
    assert "| hpwren | tiny-int8 | smoke | 5 |" in text
    assert "| hpwren_fp32 | tiny-fp32 | smoke | 5 |" in text
    assert "below its FP32 parent on hpwren val: 0.00 points" in text
    assert "2 of 3 sequences with smoke detected; false alarms: 1" in text
    assert "| vigifeu_int8 |" in text
    assert f"vigifeu bench sequences --sequences {hpwren}/sequences/sequences.csv" in text
    assert "vigifeu bench all --shared" in text


def test_all_without_a_registry_fails_before_running_anything(tmp_path: Path) -> None:
    argv = ["bench", "all", "--shared", str(tmp_path), "--registry", str(tmp_path / "none.yaml")]
    assert main([*argv, "--out", str(tmp_path / "o"), "--results", str(tmp_path / "R.md")]) == 2
    assert not (tmp_path / "o").exists()
