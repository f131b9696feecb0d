"""A tiny generated smoke dataset, a tiny recipe, and one short real training run on them.

The frames are 320x240 lookout-like views (sky gradient over dark ground) with one soft bright
grey blob ("smoke") in three of four frames. At 128 px, one epoch of 100 optimizer steps (200
frames, batch 2) from scratch learns the blob well enough (AP50 ~0.8 on the val frames) for the
INT8 gate to have something to lose; fewer steps left AP50 at 0 in trials, which would make the
gate test meaningless. Wall time on a loaded 2-core machine: about 25 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

TRAIN_FRAMES = 200
VAL_FRAMES = 8
WIDTH_PX, HEIGHT_PX = 320, 240

TINY_RECIPE = """
name: ci-tiny
architecture: yolov5nu.yaml
init: scratch
seed: 1
image_size: 128
epochs: 1
average_last_epochs: 2  # more than the run has: the one epoch, through the averaging path
batch: 2
nominal_batch: 2
optimizer: AdamW
lr0: 0.003
lrf: 1.0
warmup_epochs: 0
patience: 5
close_mosaic: 0
augment: {fliplr: 0.5, flipud: 0.0, degrees: 0.0, translate: 0.0, scale: 0.0,
          hsv_h: 0.0, hsv_s: 0.0, hsv_v: 0.0, mosaic: 0.0, mixup: 0.0}
data: {extra_negatives_train: 0, extra_require_smoke_box: true, banner_height_fraction: 0.0}
"""


@dataclass(frozen=True, slots=True)
class TrainedTiny:
    dataset: Path
    recipe: Path
    run_dir: Path
    checkpoint: Path


def synthetic_frame(rng: np.random.Generator, with_smoke: bool) -> tuple[np.ndarray, list[str]]:
    sky = np.linspace(150, 210, HEIGHT_PX // 2)[:, None, None] * np.array([1.0, 0.95, 0.85])
    image = np.empty((HEIGHT_PX, WIDTH_PX, 3), np.float64)
    image[: HEIGHT_PX // 2] = sky
    image[HEIGHT_PX // 2 :] = 40 + rng.integers(0, 20)
    image += rng.normal(0, 4, image.shape)
    lines = []
    if with_smoke:
        box_w, box_h = int(rng.integers(50, 110)), int(rng.integers(40, 90))
        cx = int(rng.integers(box_w // 2, WIDTH_PX - box_w // 2))
        cy = int(rng.integers(HEIGHT_PX // 2 - 40, HEIGHT_PX - box_h // 2))
        mask = np.zeros((HEIGHT_PX, WIDTH_PX), np.float32)
        cv2.ellipse(mask, (cx, cy), (box_w // 2, box_h // 2), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 3)[..., None]
        image = image * (1 - mask) + 225 * mask
        lines.append(
            f"0 {cx / WIDTH_PX:.6f} {cy / HEIGHT_PX:.6f} {box_w / WIDTH_PX:.6f} {box_h / HEIGHT_PX:.6f}"
        )
    return np.clip(image, 0, 255).astype(np.uint8), lines


def write_synthetic_dataset(root: Path, seed: int = 0, train_frames: int = TRAIN_FRAMES) -> Path:
    rng = np.random.default_rng(seed)
    for split, count in (("train", train_frames), ("val", VAL_FRAMES)):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for index in range(count):
            image, lines = synthetic_frame(rng, with_smoke=index % 4 != 3)
            cv2.imwrite(str(root / "images" / split / f"f{index:03d}.jpg"), image)
            (root / "labels" / split / f"f{index:03d}.txt").write_text(
                "".join(line + "\n" for line in lines)
            )
    (root / "data.yaml").write_text(
        "path: .\ntrain: images/train\nval: images/val\nnc: 2\nnames: {0: smoke, 1: fire}\n"
    )
    return root


@pytest.fixture(scope="package")
def trained_tiny(tmp_path_factory: pytest.TempPathFactory) -> TrainedTiny:
    """One real ``vigifeu.training.train.train`` run of 1 epoch on the generated dataset."""
    from vigifeu.training.train import train

    base = tmp_path_factory.mktemp("tiny_training")
    dataset = write_synthetic_dataset(base / "dataset")
    recipe = base / "tiny.yaml"
    recipe.write_text(TINY_RECIPE)
    run_dir = base / "run"
    checkpoint = train(
        recipe,
        [dataset],
        None,
        run_dir,
        "cpu",
        coco_checkpoint=base / "unused-with-scratch-init.pt",
        resume=False,
    )
    return TrainedTiny(dataset, recipe, run_dir, checkpoint)
