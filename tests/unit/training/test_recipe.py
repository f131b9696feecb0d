"""The committed recipes load, unknown keys are refused, and the EMA horizon maps to a decay."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigifeu.training.recipe import load_recipe
from vigifeu.training.resumable import ema_decay, epoch_seed

RECIPES = sorted(Path("models/recipes").glob("*.yaml"))


@pytest.mark.parametrize("path", RECIPES, ids=lambda path: path.name)
def test_committed_recipes_load(path: Path) -> None:
    recipe = load_recipe(path)
    assert recipe.epochs > recipe.close_mosaic
    assert recipe.average_last_epochs <= recipe.epochs


def test_camera_effects_are_vigifeu_s_not_an_ultralytics_argument() -> None:
    v5 = load_recipe(Path("models/recipes/smoke-fire-v5.yaml"))
    v6 = load_recipe(Path("models/recipes/smoke-fire-v6.yaml"))
    assert v5.augment.camera_effects == v6.augment.camera_effects == 1.0
    # v5 predates the choice and keeps the white balance it was trained with.
    assert v5.augment.camera_white_balance == "independent-gains"
    assert v6.augment.camera_white_balance == "colour-temperature"
    settings = v6.augment.ultralytics_settings
    assert not {"camera_effects", "camera_white_balance"} & set(settings)
    assert settings["mosaic"] == 1.0


def test_recipes_are_found() -> None:
    assert {path.name for path in RECIPES} >= {"smoke-fire-v1.yaml", "smoke-fire-v2.yaml"}


def test_an_unknown_key_is_refused_with_the_file_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = Path("models/recipes/smoke-fire-v2.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("ema_horizon_epochs:", "ema_horizon_epoch:"))
    with pytest.raises(ValueError, match=r"(?s)broken\.yaml.*ema_horizon_epoch\n.*Extra inputs"):
        load_recipe(broken)


def test_ema_horizon_gives_ultralytics_coco_decay_at_coco_scale() -> None:
    # COCO at batch 64: ~7,300 updates an epoch; ultralytics' 0.9999 is a ~1.4-epoch horizon.
    decay, tau = ema_decay(1.37, 7_300)
    assert decay == pytest.approx(0.9999, abs=2e-6)
    assert tau == pytest.approx(1_825)
    # Ours: 54 updates an epoch.
    decay, tau = ema_decay(1.5, 54)
    assert decay == pytest.approx(1 - 1 / 81)
    assert tau == pytest.approx(13.5)


def test_epoch_seeds_differ_between_epochs_and_runs() -> None:
    seeds = {epoch_seed(seed, epoch) for seed in range(4) for epoch in range(30)}
    assert len(seeds) == 120
    assert epoch_seed(6, 3) == epoch_seed(6, 3)
