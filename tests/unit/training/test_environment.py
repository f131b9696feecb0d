"""run.json records what decides the weights besides the recipe and the data."""

from __future__ import annotations

import importlib.metadata

from vigifeu.training.train import RECORDED_PACKAGES, environment


def test_the_run_records_library_versions_cpu_and_threads() -> None:
    recorded = environment()
    assert set(recorded["packages"]) == set(RECORDED_PACKAGES)
    assert recorded["packages"]["torch"] == importlib.metadata.version("torch")
    assert recorded["packages"]["ultralytics"] == importlib.metadata.version("ultralytics")
    assert recorded["cpu"]
    assert recorded["torch_threads"] >= 1
