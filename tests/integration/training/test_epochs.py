"""``vigifeu epochs`` scores every epoch checkpoint and the averaged one of a real run."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.integration.training.conftest import TrainedTiny
from vigifeu.cli import main


def test_epochs_scores_each_checkpoint_of_the_run(
    trained_tiny: TrainedTiny, tmp_path: Path
) -> None:
    out = tmp_path / "epochs.csv"
    argv = ["epochs", "--run-dir", str(trained_tiny.run_dir), "--data",
            str(trained_tiny.dataset / "data.yaml"), "--image-size", "128", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = list(csv.DictReader(out.open()))
    assert [row["checkpoint"] for row in rows] == ["1", "averaged"]
    # One epoch averaged is that epoch's EMA: the same weights, the same score.
    assert rows[0]["smoke_ap50"] == rows[1]["smoke_ap50"]
    assert float(rows[0]["smoke_ap50"]) > 0.3  # the tiny run learns the generated smoke
