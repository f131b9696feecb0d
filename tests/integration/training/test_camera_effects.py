"""Camera effects inside ultralytics' real training dataset: where they run and what they see."""

from __future__ import annotations

import random
from copy import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.integration.training.conftest import write_synthetic_dataset
from vigifeu.training import camera_effects
from vigifeu.training.camera_effects import CameraEffects, CameraEffectsRun
from vigifeu.training.hermetic import make_ultralytics_hermetic
from vigifeu.training.recipe import WhiteBalanceDraw

pytest.importorskip("ultralytics", reason="needs the train extra")

IMAGE_SIZE_PX = 128


def test_effects_see_each_augmented_frame_before_format_also_after_mosaic_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_ultralytics_hermetic(tmp_path / "ultralytics_config")
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_yolo_dataset

    root = write_synthetic_dataset(tmp_path / "dataset", train_frames=8)
    data = {"names": {0: "smoke", 1: "fire"}, "nc": 2, "channels": 3}
    args = get_cfg(overrides={"imgsz": IMAGE_SIZE_PX, "mosaic": 1.0, "workers": 0})
    images = str(root / "images" / "train")
    dataset = build_yolo_dataset(args, images, batch=2, data=data, mode="train")
    seen: list[tuple[tuple[int, ...], np.dtype[np.generic]]] = []
    real = camera_effects.apply_camera_effects

    def spy(
        image: np.ndarray,
        strength: float,
        draws: camera_effects.Draws,
        white_balance_draw: WhiteBalanceDraw,
    ) -> np.ndarray:
        seen.append((image.shape, image.dtype))
        return real(image, strength, draws, white_balance_draw)

    monkeypatch.setattr(camera_effects, "apply_camera_effects", spy)
    CameraEffectsRun(1.0).on_pretrain_routine_end(
        SimpleNamespace(train_loader=SimpleNamespace(dataset=dataset))
    )
    random.seed(0)
    for phase in ("mosaic", "mosaic closed"):
        seen.clear()
        for index in range(4):
            item = dataset[index]
            assert tuple(item["img"].shape) == (3, IMAGE_SIZE_PX, IMAGE_SIZE_PX), phase
        # Once per frame, on the final-size BGR image that Format turns into a tensor.
        assert seen == [((IMAGE_SIZE_PX, IMAGE_SIZE_PX, 3), np.dtype(np.uint8))] * 4, phase
        assert isinstance(dataset.transforms.transforms[-2], CameraEffects), phase
        dataset.close_mosaic(hyp=copy(args))
