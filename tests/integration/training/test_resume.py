"""An interrupted run, resumed, ends with the same weights as the same run done in one go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.training.conftest import TINY_RECIPE, write_synthetic_dataset

# Two short epochs with the augmentations that draw random numbers (mosaic and the camera
# effects among them) and an EMA horizon: everything an interruption could make the resumed run
# redo differently.
RESUME_RECIPE = (
    TINY_RECIPE.replace("epochs: 1\n", "epochs: 2\nema_horizon_epochs: 1.5\n")
    .replace("mixup: 0.0}", "mixup: 0.0, camera_effects: 1.0}")
    .replace("average_last_epochs: 2", "average_last_epochs: 1")
    .replace("lrf: 1.0", "lrf: 0.5")
    .replace(
        "translate: 0.0, scale: 0.0,\n          hsv_h: 0.0, hsv_s: 0.0, hsv_v: 0.0, mosaic: 0.0",
        "translate: 0.1, scale: 0.3,\n          hsv_h: 0.01, hsv_s: 0.3, hsv_v: 0.3, mosaic: 1.0",
    )
)


class _Interrupted(Exception):
    pass


def _train(dataset: Path, recipe: Path, run_dir: Path, resume: bool = False) -> None:
    from vigifeu.training.train import train

    train(
        recipe,
        [dataset],
        None,
        run_dir,
        "cpu",
        coco_checkpoint=run_dir / "unused.pt",
        resume=resume,
    )


def _final_state(run_dir: Path) -> dict[str, Any]:
    import torch

    from vigifeu.training.resumable import RESUME_STATE_NAME

    state: dict[str, Any] = torch.load(
        run_dir / "train" / "weights" / RESUME_STATE_NAME, map_location="cpu", weights_only=False
    )
    return state


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from vigifeu.training.resumable import ResumableRun

    assert "mosaic: 1.0" in RESUME_RECIPE
    assert "camera_effects: 1.0" in RESUME_RECIPE
    assert "epochs: 2" in RESUME_RECIPE
    assert "seed: 1" in RESUME_RECIPE
    dataset = write_synthetic_dataset(tmp_path / "dataset", train_frames=24)
    recipe = tmp_path / "resume.yaml"
    recipe.write_text(RESUME_RECIPE)

    _train(dataset, recipe, tmp_path / "whole")

    save = ResumableRun.on_model_save

    def save_then_stop(self: ResumableRun, trainer: Any) -> None:
        save(self, trainer)
        if trainer.epoch == 0:
            raise _Interrupted

    monkeypatch.setattr(ResumableRun, "on_model_save", save_then_stop)
    with pytest.raises(_Interrupted):
        _train(dataset, recipe, tmp_path / "interrupted")
    assert _final_state(tmp_path / "interrupted")["epoch"] == 0
    monkeypatch.setattr(ResumableRun, "on_model_save", save)
    # The resume continues the run with the recipe it started with (run.json), not the file
    # named now: another seed and EMA horizon here would give other weights.
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        RESUME_RECIPE.replace("seed: 1", "seed: 2").replace(
            "ema_horizon_epochs: 1.5", "ema_horizon_epochs: 3.0"
        )
    )
    _train(dataset, edited, tmp_path / "interrupted", resume=True)

    whole, resumed = _final_state(tmp_path / "whole"), _final_state(tmp_path / "interrupted")
    assert whole["epoch"] == resumed["epoch"] == 1
    assert whole["ema_updates"] == resumed["ema_updates"] > 0
    for part in ("model", "ema"):
        different = [
            name
            for name, tensor in whole[part].items()
            if not torch.equal(tensor, resumed[part][name])
        ]
        assert not different, f"{part}: {len(different)} tensors differ, e.g. {different[:3]}"


def test_seed_and_epochs_given_on_the_command_line_are_what_the_run_records(
    tmp_path: Path,
) -> None:
    import json

    from vigifeu.cli import main

    dataset = write_synthetic_dataset(tmp_path / "dataset", train_frames=8)
    recipe = tmp_path / "resume.yaml"
    recipe.write_text(RESUME_RECIPE)
    run_dir = tmp_path / "run"
    argv = ["train", "--recipe", str(recipe), "--lookout", str(dataset), "--run-dir",
            str(run_dir), "--epochs", "1", "--seed", "5"]  # fmt: skip
    assert main(argv) == 0
    recorded = json.loads((run_dir / "run.json").read_text())["recipe"]
    assert (recorded["seed"], recorded["epochs"]) == (5, 1)
    assert len((run_dir / "train" / "results.csv").read_text().splitlines()) == 2
