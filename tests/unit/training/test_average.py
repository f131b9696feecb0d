"""Weight averaging of a run's last epochs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vigifeu.training.average import average_checkpoints, average_last_epochs, epoch_checkpoints


def _epoch(weights: Path, epoch: int, value: float) -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2))
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.dtype.is_floating_point:
                tensor.fill_(value)
    model[1].num_batches_tracked.fill_(epoch)
    torch.save({"epoch": epoch, "ema": model.half(), "model": None}, weights / f"epoch{epoch}.pt")


def test_the_last_epochs_are_averaged_in_epoch_order(tmp_path: Path) -> None:
    for epoch, value in [(0, 100.0), (1, 1.0), (2, 2.0), (10, 6.0), (9, 3.0)]:
        _epoch(tmp_path, epoch, value)
    assert [p.name for p in epoch_checkpoints(tmp_path)][-2:] == ["epoch9.pt", "epoch10.pt"]
    out = average_last_epochs(tmp_path, 3)  # epochs 2, 9 and 10
    checkpoint = torch.load(out, map_location="cpu", weights_only=False)
    state = checkpoint["ema"].float().state_dict()
    assert state["0.weight"].flatten().tolist() == pytest.approx([11 / 3] * 2, rel=1e-3)
    assert state["1.running_var"].flatten().tolist() == pytest.approx([11 / 3] * 2, rel=1e-3)
    assert int(state["1.num_batches_tracked"]) == 10  # not averaged: the last epoch's
    assert checkpoint["averaged_from"] == ["epoch2.pt", "epoch9.pt", "epoch10.pt"]
    assert checkpoint["model"] is None
    assert checkpoint["optimizer"] is None


def test_nothing_to_average_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no checkpoint"):
        average_checkpoints([], tmp_path / "averaged.pt")
