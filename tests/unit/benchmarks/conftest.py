"""Fixtures of the benchmark tests: a tiny YOLO dataset (see ``synthetic``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.benchmarks.synthetic import write_tiny_dataset


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data.yaml of the tiny dataset (6 val images, 1 train image)."""
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny_dataset"))
