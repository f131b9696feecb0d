"""``vigifeu epochs`` scores every epoch checkpoint and the averaged one of a real run through
the edge path, and tells whether two runs are the same run."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from tests.integration.training.conftest import TrainedTiny
from vigifeu.cli import main


def test_epochs_scores_each_checkpoint_of_the_run(
    trained_tiny: TrainedTiny, tmp_path: Path
) -> None:
    out = tmp_path / "epochs.csv"
    argv = ["epochs", "--run-dir", str(trained_tiny.run_dir), "--data",
            str(trained_tiny.dataset / "data.yaml"), "--input-size", "128x96", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = list(csv.DictReader(out.open()))
    assert [row["checkpoint"] for row in rows] == ["1", "averaged"]
    # One epoch averaged is that epoch's EMA: the same weights, the same score.
    assert rows[0]["smoke_ap50"] == rows[1]["smoke_ap50"]
    assert float(rows[0]["smoke_ap50"]) > 0.3  # the tiny run learns the generated smoke


def test_epochs_scores_on_perturbed_frames_into_their_own_file(
    trained_tiny: TrainedTiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.robustness import PERTURBATIONS, Perturbation

    seen: list[int] = []

    def blank(image: np.ndarray, index: int) -> np.ndarray:
        seen.append(index)
        return np.zeros_like(image)

    # A perturbation that leaves nothing to find: the scores must come from perturbed frames.
    monkeypatch.setitem(PERTURBATIONS, "noise-8", Perturbation("noise-8", "blank", blank))
    argv = ["epochs", "--run-dir", str(trained_tiny.run_dir), "--data",
            str(trained_tiny.dataset / "data.yaml"), "--input-size", "128x96"]  # fmt: skip
    assert main([*argv, "--perturbation", "noise-8"]) == 0
    perturbed = list(csv.DictReader((trained_tiny.run_dir / "epochs-noise-8.csv").open()))
    assert [row["checkpoint"] for row in perturbed] == ["1", "averaged"]
    assert all(float(row["smoke_ap50"]) < 0.1 for row in perturbed)  # clean: above 0.3
    assert sorted(seen) == sorted(list(range(8)) * 2)  # each val frame, for each checkpoint


def test_same_as_finds_a_run_equal_to_itself_and_names_a_changed_tensor(
    trained_tiny: TrainedTiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    run = trained_tiny.run_dir
    assert main(["epochs", "--run-dir", str(run), "--same-as", str(run)]) == 0
    assert "epoch   1: bitwise equal" in capsys.readouterr().out

    other = tmp_path / "other"
    (other / "train" / "weights").mkdir(parents=True)
    checkpoint = torch.load(run / "train" / "weights" / "epoch0.pt", weights_only=False)
    name, tensor = next(iter(checkpoint["ema"].state_dict().items()))
    with torch.no_grad():
        tensor.view(-1)[0] += 1  # one value of one tensor
    torch.save(checkpoint, other / "train" / "weights" / "epoch0.pt")
    assert main(["epochs", "--run-dir", str(run), "--same-as", str(other)]) == 1
    assert (
        f"epoch   1: 1 of {len(checkpoint['ema'].state_dict())} EMA tensors differ, e.g. {name}"
        in (capsys.readouterr().out)
    )
