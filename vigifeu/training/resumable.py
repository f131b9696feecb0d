"""ultralytics callbacks that make a run reproducible however often it is interrupted, and give
its EMA a horizon that fits a small dataset.

An interrupted ultralytics run does not continue the run it interrupted:

* ``--resume`` restarts from ``last.pt``, which holds the EMA weights in FP16 and the optimizer
  moments in FP16, not the weights being trained; training goes on from a different point;
* the random state (augmentations draw from ``random`` and ``numpy`` in the main process with
  ``workers=0``, the shuffle from the loader's generator) restarts from the seed, so the
  resumed epochs see the draws of the run's first epochs again.

On these CPUs a recipe run takes hours and is interrupted between sessions, so two runs of the
same command differed by where they were stopped. Here every epoch reseeds from (seed, epoch),
and each checkpoint also writes ``resume_state.pt``: the trained weights, the EMA and the
optimizer in full precision, which a resume loads back. An epoch then depends only on the
recipe and the previous epoch's state (``tests/integration/training``: two epochs in one go and
one epoch plus a resume give the same weights). The mosaic partner buffer, the one state left
(recently loaded images), is switched off by caching the images in RAM (``cache="ram"`` in
``train.py``).

EMA horizon: ultralytics' EMA decays at ``0.9999 * (1 - exp(-updates / 2000))``, tuned for COCO
(~7,300 updates an epoch: a horizon of ~1.4 epochs). Our runs make ~54 updates an epoch and
~1,400 in all, so the decay never passes 0.5 and the "EMA" is the last couple of steps: the
epoch checkpoints swing by up to 39 AP50 points from one epoch to the next on hpwren val.
``ema_horizon_epochs`` sets the decay to ``1 - 1 / (horizon * updates per epoch)``, with the
ramp over a quarter epoch, the proportions ultralytics chose for COCO.
"""

from __future__ import annotations

import logging
import math
import random
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

RESUME_STATE_NAME = "resume_state.pt"
# Mixes the epoch into the seed (a large odd constant: nearby seeds give unrelated streams).
_EPOCH_SEED_STRIDE = 0x9E3779B1
_RAMP_FRACTION_OF_EPOCH = 0.25


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * _EPOCH_SEED_STRIDE + epoch) % (1 << 32)


def ema_decay(horizon_epochs: float, updates_per_epoch: int) -> tuple[float, float]:
    """(maximum decay, ramp time constant in updates) for an EMA averaging ``horizon_epochs``."""
    horizon_updates = max(horizon_epochs * updates_per_epoch, 1.0)
    return 1.0 - 1.0 / horizon_updates, max(_RAMP_FRACTION_OF_EPOCH * updates_per_epoch, 1.0)


class ResumableRun:
    """Callbacks to add to an ultralytics ``YOLO`` before ``train`` (``install``)."""

    def __init__(self, seed: int, ema_horizon_epochs: float | None) -> None:
        self._seed = seed
        self._ema_horizon_epochs = ema_horizon_epochs

    def install(self, model: Any) -> None:
        model.add_callback("on_pretrain_routine_end", self.on_pretrain_routine_end)
        model.add_callback("on_train_epoch_start", self.on_train_epoch_start)
        model.add_callback("on_model_save", self.on_model_save)

    def on_pretrain_routine_end(self, trainer: Any) -> None:
        if self._ema_horizon_epochs is not None:
            decay, tau = ema_decay(self._ema_horizon_epochs, _updates_per_epoch(trainer))
            # ModelEMA keeps its decay as a function of the update count; the count itself is
            # restored by a resume, so the ramp continues where it stopped.
            trainer.ema.decay = lambda updates: decay * (1 - math.exp(-updates / tau))
            logger.info("EMA decay %.4f (ramp %.0f updates)", decay, tau)
        if trainer.start_epoch > 0:
            self._restore(trainer)

    def on_train_epoch_start(self, trainer: Any) -> None:
        import numpy as np
        import torch

        seed = epoch_seed(self._seed, trainer.epoch)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        loader = trainer.train_loader
        generator = getattr(loader.sampler, "generator", None)
        if isinstance(generator, torch.Generator):
            generator.manual_seed(seed)
            # A running iterator would draw the previous epoch's unused tail permutation from
            # the reseeded generator first; a fresh one starts with this epoch's shuffle.
            loader.reset()

    def on_model_save(self, trainer: Any) -> None:
        import torch
        from ultralytics.utils.torch_utils import unwrap_model

        path = _state_path(trainer)
        partial = path.with_suffix(".partial")
        torch.save(
            {
                "epoch": trainer.epoch,
                "model": unwrap_model(trainer.model).state_dict(),
                "ema": trainer.ema.ema.state_dict(),
                "ema_updates": trainer.ema.updates,
                "optimizer": trainer.optimizer.state_dict(),
            },
            partial,
        )
        # A run stopped while writing keeps the previous epoch's complete state.
        partial.replace(path)

    def _restore(self, trainer: Any) -> None:
        import torch
        from ultralytics.utils.torch_utils import unwrap_model

        path = _state_path(trainer)
        if not path.exists():
            logger.warning("no %s: resuming from ultralytics' FP16 EMA checkpoint", path.name)
            return
        state = torch.load(path, map_location="cpu", weights_only=False)
        if state["epoch"] != trainer.start_epoch - 1:
            logger.warning(
                "%s is of epoch %d, last.pt of %d: resuming from last.pt",
                path.name,
                state["epoch"] + 1,
                trainer.start_epoch,
            )
            return
        unwrap_model(trainer.model).load_state_dict(state["model"])
        trainer.ema.ema.load_state_dict(state["ema"])
        trainer.ema.updates = state["ema_updates"]
        trainer.optimizer.load_state_dict(state["optimizer"])
        logger.info("resumed the full-precision state of epoch %d", state["epoch"] + 1)


def _state_path(trainer: Any) -> Path:
    return Path(trainer.wdir) / RESUME_STATE_NAME


def _updates_per_epoch(trainer: Any) -> int:
    batches: int = len(trainer.train_loader)
    accumulate: int = max(trainer.accumulate, 1)
    return max(math.ceil(batches / accumulate), 1)
