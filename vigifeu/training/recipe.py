"""The training recipe file (``models/recipes/*.yaml``), validated before anything runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# How ``camera_effects`` draws another camera's white balance (see there).
WhiteBalanceDraw = Literal["independent-gains", "colour-temperature"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Augmentation(_Strict):
    fliplr: float = Field(ge=0, le=1)
    flipud: float = Field(ge=0, le=1)
    degrees: float = Field(ge=0, le=45)
    translate: float = Field(ge=0, le=0.9)
    scale: float = Field(ge=0, le=0.9)
    hsv_h: float = Field(ge=0, le=1)
    hsv_s: float = Field(ge=0, le=1)
    hsv_v: float = Field(ge=0, le=1)
    mosaic: float = Field(ge=0, le=1)
    mixup: float = Field(ge=0, le=1)
    # What other cameras do (noise, blur, compression, resolution, exposure, haze;
    # ``camera_effects.py``): the strength scales each effect's probability; 0 turns it off.
    # vigifeu applies it, not ultralytics.
    camera_effects: float = Field(default=0.0, ge=0, le=1)
    camera_white_balance: WhiteBalanceDraw = "independent-gains"

    @property
    def ultralytics_settings(self) -> dict[str, float]:
        """The augmentations ultralytics applies itself, as its train arguments."""
        return self.model_dump(exclude={"camera_effects", "camera_white_balance"})


class DataPolicy(_Strict):
    extra_negatives_train: int = Field(ge=0)
    extra_require_smoke_box: bool
    banner_height_fraction: float = Field(ge=0, le=0.2)
    # Copies of lookout training frames with one more of the set's plumes pasted in, per lookout
    # training frame (``plume_paste.py``); 0 turns it off. Validation stays untouched.
    pasted_plumes_per_lookout_image: float = Field(default=0.0, ge=0, le=2)


class Recipe(_Strict):
    name: str
    architecture: str
    init: Literal["coco-yolov5n", "scratch"]
    seed: int
    image_size: int = Field(ge=64, le=2048, multiple_of=32)
    epochs: int = Field(ge=1)
    batch: int = Field(ge=1)
    nominal_batch: int = Field(ge=1)
    optimizer: Literal["AdamW", "SGD", "Adam"]
    lr0: float = Field(gt=0)
    lrf: float = Field(gt=0, le=1)
    warmup_epochs: float = Field(ge=0)
    patience: int = Field(ge=1)
    close_mosaic: int = Field(ge=0)
    # The shipped checkpoint is the mean of the last N epochs' weights (``average.py``); 1 keeps
    # ultralytics' best.pt.
    average_last_epochs: int = Field(default=1, ge=1)
    # The EMA's averaging horizon (``resumable.ema_decay``); None keeps ultralytics' COCO-tuned
    # decay, which on our ~54 updates an epoch never averages more than the last few steps.
    ema_horizon_epochs: float | None = Field(default=None, gt=0)
    augment: Augmentation
    data: DataPolicy


def load_recipe(path: Path) -> Recipe:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Recipe.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise ValueError(f"{path}: invalid training recipe: {error}") from error


# What ``vigifeu train`` records in a run folder: the recipe as run, its file, inputs, transfer.
RUN_FILE = "run.json"


class RunRecipe(NamedTuple):
    recipe: Recipe  # as run: with the command's overrides (``--seed``, ``--epochs``)
    recipe_file: Path  # the file it was read from, whose stem names the models it gives


def run_recipe(run_dir: Path) -> RunRecipe:
    """The recipe a training run started with, as ``vigifeu train`` recorded it in ``run.json``."""
    path = run_dir / RUN_FILE
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
        return RunRecipe(Recipe.model_validate(run["recipe"]), Path(run["recipe_file"]))
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: no readable recipe: {error}") from error
