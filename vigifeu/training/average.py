"""Uniform weight averaging of a run's last epochs (stochastic weight averaging, Izmailov et al.
2018), applied after training: no extra training cost.

Each ultralytics epoch checkpoint holds the EMA of that epoch's weights; averaging the last
epochs of the learning-rate tail flattens the solution further. On our run (26 epochs, hpwren
val smoke AP50, FP32 then the best INT8 tried): epoch 24 alone 0.719 / 0.597; the mean of the
last 5 epochs (shipped) 0.739 / 0.733, of the last 4 0.756 / 0.741, of the last 6 0.733 / 0.729,
of the last 8 0.725 / 0.703. Averaged weights also quantize better: the INT8 loss shrank from 12
points to about one. BatchNorm statistics are averaged like the weights (they come from the same
EMA models), not recomputed.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

_EPOCH_FILE = re.compile(r"epoch(\d+)\.pt$")
AVERAGED_NAME = "averaged.pt"


def numbered_epoch_checkpoints(weights_dir: Path) -> list[tuple[int, Path]]:
    """The run's per-epoch checkpoints (``save_period=1``) with their 1-based epoch, oldest
    first (ultralytics names epoch N ``epoch{N-1}.pt``)."""
    found = [
        (int(m.group(1)) + 1, path)
        for path in weights_dir.glob("epoch*.pt")
        if (m := _EPOCH_FILE.search(path.name))
    ]
    return sorted(found)


def epoch_checkpoints(weights_dir: Path) -> list[Path]:
    """The run's per-epoch checkpoints, oldest first."""
    return [path for _, path in numbered_epoch_checkpoints(weights_dir)]


def average_checkpoints(paths: Sequence[Path], out: Path) -> Path:
    """Write an ultralytics checkpoint whose model is the mean of the checkpoints' EMA models
    (floating-point tensors; integer buffers are taken from the last)."""
    import torch

    if not paths:
        raise ValueError("no checkpoint to average")
    checkpoints = [torch.load(path, map_location="cpu", weights_only=False) for path in paths]
    models = [
        (checkpoint["model"] if checkpoint.get("ema") is None else checkpoint["ema"]).float()
        for checkpoint in checkpoints
    ]
    states = [model.state_dict() for model in models]
    averaged = copy.deepcopy(models[-1])
    mean = {
        name: sum(state[name] for state in states) / len(states)
        if tensor.dtype.is_floating_point
        else tensor
        for name, tensor in states[-1].items()
    }
    averaged.load_state_dict(mean)
    checkpoint = dict(checkpoints[-1])
    checkpoint.update(
        ema=averaged.half(),
        model=None,
        optimizer=None,
        averaged_from=[path.name for path in paths],
    )
    torch.save(checkpoint, out)
    logger.info(
        "averaged %d checkpoints (%s..%s) into %s", len(paths), paths[0].name, paths[-1].name, out
    )
    return out


def average_last_epochs(weights_dir: Path, count: int) -> Path:
    """``averaged.pt`` beside the epoch checkpoints: the mean of the last ``count`` of them."""
    epochs = epoch_checkpoints(weights_dir)
    return average_checkpoints(epochs[-count:], weights_dir / AVERAGED_NAME)
