"""Camera effects: off at strength 0, seeded, frame-preserving, and kept in the transforms."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from vigifeu.training.camera_effects import (
    CameraEffects,
    CameraEffectsRun,
    apply_camera_effects,
    white_balance_gains,
    with_camera_effects,
)
from vigifeu.training.recipe import WhiteBalanceDraw


def frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    ramp = np.linspace(30, 220, 160)[None, :, None]
    return np.clip(ramp + rng.normal(0, 15, (120, 160, 3)), 0, 255).astype(np.uint8)


def test_strength_zero_leaves_the_frame_as_it_was() -> None:
    image = frame()
    draws = random.Random(1)
    for _ in range(20):
        out = apply_camera_effects(image, 0.0, draws)
        assert np.array_equal(out, image)
        assert out is not image


def test_effects_are_drawn_from_the_given_random_state_and_keep_the_frame_size() -> None:
    image = frame()
    first = [apply_camera_effects(image, 1.0, random.Random(seed)) for seed in range(40)]
    again = [apply_camera_effects(image, 1.0, random.Random(seed)) for seed in range(40)]
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
        assert a.shape == image.shape
        assert a.dtype == np.uint8
    changed = sum(not np.array_equal(out, image) for out in first)
    # Seven effects with probabilities 0.15-0.35: about 87 % of frames get at least one.
    assert 28 <= changed <= 40
    assert np.array_equal(image, frame())


class Format:
    """Stands for ultralytics' last transform."""

    def __call__(self, labels: dict[str, Any]) -> dict[str, Any]:
        return labels


class Compose:
    """The two methods of ultralytics' ``Compose`` that the effects use."""

    def __init__(self, transforms: list[Any]) -> None:
        self.transforms = transforms

    def insert(self, index: int, transform: Any) -> None:
        self.transforms.insert(index, transform)


def test_the_effects_go_before_format_once_and_survive_a_rebuild() -> None:
    def build(hyp: Any) -> Compose:
        return Compose([object(), Format()])

    dataset = SimpleNamespace(build_transforms=build, transforms=build(None))
    trainer = SimpleNamespace(train_loader=SimpleNamespace(dataset=dataset))
    run = CameraEffectsRun(0.5)
    run.on_pretrain_routine_end(trainer)
    steps = dataset.transforms.transforms
    assert [type(step) for step in steps[1:]] == [CameraEffects, Format]
    assert steps[1].strength == 0.5
    with_camera_effects(dataset.transforms, CameraEffects(0.5, "independent-gains"))
    assert len(dataset.transforms.transforms) == 3
    # ultralytics rebuilds the transforms when it closes mosaic: the effects stay.
    rebuilt = dataset.build_transforms(None)
    assert [type(step) for step in rebuilt.transforms[1:]] == [CameraEffects, Format]
    # ... and the whole loader after a GPU out-of-memory retry: the next epoch start adds them.
    fresh = SimpleNamespace(build_transforms=build, transforms=build(None))
    trainer.train_loader = SimpleNamespace(dataset=fresh)
    run.on_train_epoch_start(trainer)
    assert [type(step) for step in fresh.transforms.transforms[1:]] == [CameraEffects, Format]
    run.on_train_epoch_start(trainer)  # once only, every epoch
    assert len(fresh.transforms.transforms) == 3
    assert [type(s) for s in fresh.build_transforms(None).transforms[1:]] == [CameraEffects, Format]


def test_the_transform_replaces_the_image_in_the_labels() -> None:
    random.seed(3)
    image = frame()
    labels = {"img": image, "cls": np.zeros((0, 1))}
    outputs = [CameraEffects(1.0, "colour-temperature")(dict(labels))["img"] for _ in range(10)]
    assert any(not np.array_equal(out, image) for out in outputs)
    assert all(out.shape == image.shape for out in outputs)


def test_a_colour_temperature_moves_red_and_blue_opposite_ways_and_often_casts_like_the_test() -> (
    None
):
    draws = random.Random(5)
    warm_casts: dict[WhiteBalanceDraw, int] = {"independent-gains": 0, "colour-temperature": 0}
    for how in warm_casts:
        for _ in range(4000):
            blue, green, red = white_balance_gains(how, draws)
            assert green == 1.0
            if how == "colour-temperature":
                assert red * blue == pytest.approx(1.0)
                assert 1 / 1.25 <= red <= 1.25
            # A cast like bench robustness's "white-balance" (red x1.15, blue x0.85).
            warm_casts[how] += red > 1.1 and blue < 0.9
    # Of the frames given a white balance: 3 % and 26 % (times its probability 0.3: 1 % and 8 %).
    assert 60 <= warm_casts["independent-gains"] <= 200
    assert 950 <= warm_casts["colour-temperature"] <= 1150
