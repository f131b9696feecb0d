"""Synthetic plumes: matte shape, blending, placement on the ground, and the prepared dataset."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from vigifeu.training.data import prepare_dataset
from vigifeu.training.recipe import DataPolicy
from vigifeu.training.synthetic import (
    MIN_VISIBLE_CONTRAST,
    BlendMode,
    PixelBox,
    add_plume,
    composite,
    place,
    plume_matte,
    visible_contrast,
    yolo_boxes,
)

WIDTH_PX, HEIGHT_PX = 320, 240
HORIZON_ROW = 100


def lookout_frame(seed: int) -> np.ndarray:
    """A smooth sky gradient over textured ground below ``HORIZON_ROW``."""
    rng = np.random.default_rng(seed)
    frame = np.empty((HEIGHT_PX, WIDTH_PX, 3), np.float64)
    frame[:HORIZON_ROW] = np.linspace(200, 160, HORIZON_ROW)[:, None, None] * [1.0, 0.9, 0.8]
    frame[HORIZON_ROW:] = 70 + rng.normal(0, 20, (HEIGHT_PX - HORIZON_ROW, WIDTH_PX, 3))
    return np.clip(frame, 0, 255).astype(np.uint8)


def test_matte_is_cropped_to_a_plume_with_peak_one() -> None:
    for seed in range(10):
        matte = plume_matte(np.random.default_rng(seed))
        assert matte.dtype == np.float32
        assert matte.min() >= 0
        assert matte.max() == pytest.approx(1.0)
        # Cropped: each border row and column holds some plume.
        for edge in (matte[0], matte[-1], matte[:, 0], matte[:, -1]):
            assert edge.max() > 0
    shapes = {plume_matte(np.random.default_rng(seed)).shape for seed in range(10)}
    assert len(shapes) > 5
    assert np.array_equal(
        plume_matte(np.random.default_rng(3)), plume_matte(np.random.default_rng(3))
    )


def test_composite_changes_only_the_box_and_screen_and_lighten_never_darken() -> None:
    image = lookout_frame(0)
    matte = plume_matte(np.random.default_rng(1))
    box = PixelBox(100, 120, 160, 170)
    light, dark = np.array([230.0, 230.0, 230.0]), np.array([20.0, 20.0, 20.0])
    for mode in BlendMode:
        out = composite(image, matte, box, light, 0.7, mode)
        outside = np.ones(image.shape[:2], bool)
        outside[box.top : box.bottom, box.left : box.right] = False
        assert np.array_equal(out[outside], image[outside])
        assert not np.array_equal(out, image)
    for mode in (BlendMode.SCREEN, BlendMode.LIGHTEN):
        assert (composite(image, matte, box, dark, 0.7, mode).astype(int) >= image).all()
    assert (composite(image, matte, box, dark, 0.7, BlendMode.ALPHA) < image).any()


def test_plumes_stand_on_textured_ground_and_clear_of_labelled_boxes() -> None:
    image = lookout_frame(0)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    labelled = PixelBox(120, 110, 200, 150)
    rng = np.random.default_rng(0)
    boxes = [place(rng, (20, 40), grey, [labelled], 8) for _ in range(200)]
    placed = [box for box in boxes if box is not None]
    assert len(placed) > 150
    for box in placed:
        # The base is on the ground or on the skyline (smoke from behind a ridge), never in
        # the smooth sky: the texture band under it (5 rows here) reaches the ground.
        assert box.bottom >= HORIZON_ROW - 5
        assert box.top >= 8
        assert box.right <= WIDTH_PX
        assert not box.overlaps(labelled)
    sky_only = np.full((HEIGHT_PX, WIDTH_PX), 180, np.uint8)
    assert place(rng, (20, 40), sky_only, [], 8) is None


def test_add_plume_appends_a_visible_smoke_box_inside_the_frame() -> None:
    image = lookout_frame(2)
    real = ("0 0.500000 0.600000 0.200000 0.100000",)
    rng = np.random.default_rng(7)
    added = [add_plume(rng, image, real, 8) for _ in range(20)]
    assert sum(result is not None for result in added) >= 15
    for result in added:
        if result is None:
            continue
        pixels, lines = result
        assert lines[0] == real[0]
        assert len(lines) == 2
        fields = [float(value) for value in lines[1].split()]
        assert fields[0] == 0
        (box,) = yolo_boxes(lines[1:], WIDTH_PX, HEIGHT_PX)
        assert 0 <= box.left < box.right <= WIDTH_PX
        assert 8 <= box.top < box.bottom <= HEIGHT_PX
        changed = np.argwhere((pixels != image).any(axis=2))
        assert changed[:, 0].min() >= box.top
        assert changed[:, 0].max() < box.bottom
        assert changed[:, 1].min() >= box.left
        assert changed[:, 1].max() < box.right


def test_a_plume_too_faint_to_see_is_not_labelled() -> None:
    image = lookout_frame(0)
    matte = plume_matte(np.random.default_rng(0))
    box = PixelBox(50, 150, 110, 200)
    faint = composite(image, matte, box, np.array([70.0, 70.0, 70.0]), 0.05, BlendMode.ALPHA)
    strong = composite(image, matte, box, np.array([230.0, 230.0, 230.0]), 0.7, BlendMode.ALPHA)
    assert visible_contrast(image, faint, matte, box) < MIN_VISIBLE_CONTRAST
    assert visible_contrast(image, strong, matte, box) >= MIN_VISIBLE_CONTRAST


def _write_lookout_set(root: Path) -> Path:
    for split, count in (("train", 6), ("val", 2)):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for index in range(count):
            cv2.imwrite(str(root / "images" / split / f"f{index}.jpg"), lookout_frame(index))
            label = "0 0.300000 0.550000 0.100000 0.080000\n" if index % 2 == 0 else ""
            (root / "labels" / split / f"f{index}.txt").write_text(label)
    return root


def test_prepared_dataset_holds_the_synthetic_frames_in_train_only(tmp_path: Path) -> None:
    lookout = _write_lookout_set(tmp_path / "lookout")
    policy = DataPolicy(
        extra_negatives_train=0,
        extra_require_smoke_box=True,
        banner_height_fraction=0.03,
        synthetic_plumes_per_lookout_image=0.5,
    )
    data_yaml = prepare_dataset(lookout, None, policy, seed=4, out=tmp_path / "a")
    counts = yaml.safe_load(data_yaml.read_text())["counts"]
    assert counts == {"train": 6, "train_synthetic": 3, "val": 2}
    synthetic = sorted((tmp_path / "a" / "images" / "train").glob("synthetic_*.jpg"))
    assert len(synthetic) == 3
    assert not list((tmp_path / "a" / "images" / "val").glob("synthetic_*"))
    for image in synthetic:
        source = image.stem.split("_", 2)[2]
        source_lines = (lookout / "labels" / "train" / f"{source}.txt").read_text().split()
        lines = (tmp_path / "a" / "labels" / "train" / f"{image.stem}.txt").read_text().splitlines()
        assert len(lines) == len(source_lines) // 5 + 1
        assert lines[-1].startswith("0 ")
    # Seeded: the same recipe prepares the same bytes.
    prepare_dataset(lookout, None, policy, seed=4, out=tmp_path / "b")
    for image in synthetic:
        assert image.read_bytes() == (tmp_path / "b" / "images" / "train" / image.name).read_bytes()


def test_synthetic_plumes_are_off_unless_the_recipe_asks(tmp_path: Path) -> None:
    lookout = _write_lookout_set(tmp_path / "lookout")
    policy = DataPolicy(
        extra_negatives_train=0, extra_require_smoke_box=True, banner_height_fraction=0.0
    )
    data_yaml = prepare_dataset(lookout, None, policy, seed=4, out=tmp_path / "out")
    assert yaml.safe_load(data_yaml.read_text())["counts"] == {"train": 6, "val": 2}
    assert not list((tmp_path / "out" / "images" / "train").glob("synthetic_*"))
