from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vigifeu.training.epochs import CheckpointScore, absolute_data_yaml, mean_swing


def test_mean_swing_averages_the_changes_between_epochs_only() -> None:
    scores = [
        CheckpointScore("1", 0.2, 0.1),
        CheckpointScore("2", 0.6, 0.2),
        CheckpointScore("3", 0.4, 0.2),
        CheckpointScore("averaged", 0.9, 0.4),
    ]
    assert mean_swing(scores) == pytest.approx(0.3)
    assert mean_swing(scores[:1]) is None


def test_data_yaml_path_becomes_absolute(tmp_path: Path) -> None:
    dataset = tmp_path / "set"
    dataset.mkdir()
    (dataset / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnc: 2\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    config = yaml.safe_load(absolute_data_yaml(dataset / "data.yaml", out_dir).read_text())
    assert config["path"] == str(dataset.resolve())
    assert config["val"] == "images/val"
