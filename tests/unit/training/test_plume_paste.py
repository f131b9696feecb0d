"""Pasted plumes: patches, placement on the ground, labels that follow the pixels, the dataset."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from vigifeu.training.data import prepare_dataset
from vigifeu.training.plume_paste import (
    PATCH_MARGIN,
    PixelBox,
    PlumePatch,
    cut_patches,
    paste_plume,
    yolo_boxes,
)
from vigifeu.training.recipe import DataPolicy

WIDTH_PX, HEIGHT_PX = 320, 240
HORIZON_ROW = 100
PLUME = "0 0.500000 0.600000 0.150000 0.100000"  # 48 x 24 px, centred at (160, 144)


def lookout_frame(seed: int, *, plume: bool = False, grey: bool = False) -> np.ndarray:
    """Smooth sky above ``HORIZON_ROW``, textured ground below, optionally a bright plume."""
    rng = np.random.default_rng(seed)
    frame = np.empty((HEIGHT_PX, WIDTH_PX, 3), np.float64)
    frame[:HORIZON_ROW] = np.linspace(200, 160, HORIZON_ROW)[:, None, None] * [1.0, 0.9, 0.8]
    frame[HORIZON_ROW:] = np.array([60, 80, 70]) + rng.normal(
        0, 20, (HEIGHT_PX - HORIZON_ROW, WIDTH_PX, 1)
    )
    if plume:
        (box,) = yolo_boxes((PLUME,), WIDTH_PX, HEIGHT_PX)
        frame[box.top : box.bottom, box.left : box.right] += [90, 110, 130]
    if grey:
        frame[:] = frame.mean(axis=2, keepdims=True)
    return np.clip(frame, 0, 255).astype(np.uint8)


def test_a_patch_is_cut_around_each_smoke_box_only() -> None:
    fire = "1 0.200000 0.700000 0.100000 0.100000"
    (patch,) = cut_patches(lookout_frame(0, plume=True), (PLUME, fire))
    assert patch.frame_width_px == WIDTH_PX
    # 48 x 24 px grown by 25 % on each side: 72 x 36, the plume at (12, 6).
    assert patch.pixels.shape == (36, 72, 3)
    assert patch.plume == PixelBox(12, 6, 60, 30)
    assert patch.blend == PixelBox(0, 0, 72, 36)
    # At the frame's edge the margin is cut short; the blending ellipse stays on the plume.
    (edge,) = cut_patches(lookout_frame(0), ("0 0.050000 0.600000 0.100000 0.100000",))
    assert edge.plume.left == 0
    assert edge.pixels.shape[1] == edge.plume.right + round(PATCH_MARGIN * 32)
    assert (edge.blend.left, edge.blend.right) == (-8, 40)
    # A plume whose margin holds another labelled box is not cut (it would be pasted unlabelled).
    near = "1 0.500000 0.680000 0.050000 0.050000"  # a fire box just under the plume
    assert cut_patches(lookout_frame(0, plume=True), (PLUME, near)) == []


def _patches() -> list[PlumePatch]:
    """A soft plume off the patch's centre, so that a mirrored paste with an unmirrored label
    shows."""
    ground = lookout_frame(1)[HORIZON_ROW + 20 : HORIZON_ROW + 56, 100:172].astype(float)
    rows, columns = np.mgrid[0:36, 0:72]
    ground += 130 * np.exp(-((columns - 20) ** 2 + (rows - 18) ** 2) / (2 * 6.0**2))[..., None]
    ground = np.clip(ground, 0, 255).astype(np.uint8)
    return [PlumePatch(ground, PixelBox(8, 6, 32, 30), PixelBox(2, 0, 38, 36), WIDTH_PX)]


def test_pasted_plume_is_labelled_where_its_pixels_are() -> None:
    frame = lookout_frame(2)
    existing = ("0 0.200000 0.500000 0.100000 0.080000",)
    rng = np.random.default_rng(0)
    results = [paste_plume(rng, frame, existing, _patches(), 8) for _ in range(30)]
    pasted = [result for result in results if result is not None]
    assert len(pasted) >= 20
    (kept,) = yolo_boxes(existing, WIDTH_PX, HEIGHT_PX)
    for pixels, lines in pasted:
        assert lines[0] == existing[0]
        assert len(lines) == 2
        (box,) = yolo_boxes(lines[1:], WIDTH_PX, HEIGHT_PX)
        assert box.top >= 8
        assert box.right <= WIDTH_PX
        # The base stands on the ground or the skyline, not in the smooth sky (the texture band
        # under it is 5 rows here).
        assert box.bottom >= HORIZON_ROW - 5
        assert not box.grown(PATCH_MARGIN).overlaps(kept)
        # Only the patch's ellipse changed: within a patch's size (72 x 36 px, scaled by at most
        # 1.2) of the plume.
        changed = np.argwhere((pixels != frame).any(axis=2))
        region = PixelBox(box.left - 87, box.top - 44, box.right + 87, box.bottom + 44)
        assert changed[:, 0].min() >= region.top
        assert changed[:, 0].max() < region.bottom
        assert changed[:, 1].min() >= region.left
        assert changed[:, 1].max() < region.right
        # The bright plume is inside its label (mirrored or not), brighter than its margin.
        grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY).astype(float)
        inside = grey[box.top : box.bottom, box.left : box.right].mean()
        margin = grey[box.bottom : box.bottom + 4, box.left : box.right].mean()
        assert inside > margin + 20


def test_nothing_is_pasted_where_it_would_show_as_a_foreign_texture() -> None:
    rng = np.random.default_rng(0)
    # A plume cut from the smooth sky cannot go onto the textured ground, the only place with a
    # ground under it: no place is found.
    sky_plume = cut_patches(lookout_frame(1), ("0 0.500000 0.200000 0.150000 0.100000",))
    assert paste_plume(rng, lookout_frame(2), (), sky_plume, 8) is None
    # A frame that is all sky has no ground to stand on.
    sky = np.full((HEIGHT_PX, WIDTH_PX, 3), 180, np.uint8)
    assert paste_plume(rng, sky, (), _patches(), 8) is None
    assert paste_plume(rng, lookout_frame(2), (), [], 8) is None


def test_a_coloured_plume_turns_grey_in_an_infrared_frame() -> None:
    frame = lookout_frame(2, grey=True)
    rng = np.random.default_rng(1)
    result = None
    while result is None:
        result = paste_plume(rng, frame, (), _patches(), 8)
    pixels = result[0].astype(int)
    assert np.abs(pixels - pixels[..., :1]).max() <= 1


def _write_lookout_set(root: Path) -> Path:
    for split, count in (("train", 6), ("val", 2)):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for index in range(count):
            with_plume = index % 2 == 0
            image = lookout_frame(index, plume=with_plume)
            cv2.imwrite(str(root / "images" / split / f"f{index}.png"), image)
            (root / "labels" / split / f"f{index}.txt").write_text(
                PLUME + "\n" if with_plume else ""
            )
    return root


def _policy(pasted: float) -> DataPolicy:
    return DataPolicy(
        extra_negatives_train=0,
        extra_require_smoke_box=True,
        banner_height_fraction=0.03,
        pasted_plumes_per_lookout_image=pasted,
    )


def test_prepared_dataset_holds_the_pasted_frames_in_train_only(tmp_path: Path) -> None:
    lookout = _write_lookout_set(tmp_path / "lookout")
    data_yaml = prepare_dataset([lookout], None, _policy(0.5), seed=4, out=tmp_path / "a")
    counts = yaml.safe_load(data_yaml.read_text())["counts"]
    assert counts == {"train": 6, "train_pasted": 3, "val": 2}
    pasted = sorted((tmp_path / "a" / "images" / "train").glob("pasted_*.jpg"))
    assert len(pasted) == 3
    assert not list((tmp_path / "a" / "images" / "val").glob("pasted_*"))
    for image in pasted:
        source = image.stem.split("_", 2)[2]
        source_lines = (lookout / "labels" / "train" / f"{source}.txt").read_text().splitlines()
        lines = (tmp_path / "a" / "labels" / "train" / f"{image.stem}.txt").read_text().splitlines()
        assert lines[:-1] == source_lines
        assert lines[-1].startswith("0 ")
    # Seeded: the same recipe prepares the same bytes.
    prepare_dataset([lookout], None, _policy(0.5), seed=4, out=tmp_path / "b")
    for image in pasted:
        assert image.read_bytes() == (tmp_path / "b" / "images" / "train" / image.name).read_bytes()


@pytest.mark.parametrize("pasted", [0.0])
def test_pasting_is_off_unless_the_recipe_asks(tmp_path: Path, pasted: float) -> None:
    lookout = _write_lookout_set(tmp_path / "lookout")
    data_yaml = prepare_dataset([lookout], None, _policy(pasted), seed=4, out=tmp_path / "out")
    assert yaml.safe_load(data_yaml.read_text())["counts"] == {"train": 6, "val": 2}
    assert not list((tmp_path / "out" / "images" / "train").glob("pasted_*"))
