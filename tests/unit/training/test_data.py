"""The prepared training dataset: several lookout sets combined, and name clashes refused."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from vigifeu.training.data import prepare_dataset
from vigifeu.training.recipe import DataPolicy

POLICY = DataPolicy(extra_negatives_train=0, extra_require_smoke_box=True, banner_height_fraction=0)


def write_set(root: Path, prefix: str, counts: dict[str, int]) -> Path:
    for split, count in counts.items():
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for index in range(count):
            name = f"{prefix}{index}"
            cv2.imwrite(str(root / "images" / split / f"{name}.png"), np.full((24, 32, 3), index))
            label = "0 0.5 0.5 0.2 0.2\n" if index % 2 == 0 else ""
            (root / "labels" / split / f"{name}.txt").write_text(label)
    return root


def test_several_lookout_sets_are_combined(tmp_path: Path) -> None:
    shared = write_set(tmp_path / "shared", "hp_", {"train": 3, "val": 2})
    verdicts = write_set(tmp_path / "verdicts", "incident_", {"train": 2, "val": 1})
    data_yaml = prepare_dataset([shared, verdicts], None, POLICY, seed=1, out=tmp_path / "out")
    assert yaml.safe_load(data_yaml.read_text())["counts"] == {"train": 5, "val": 3}
    train = sorted(path.name for path in (tmp_path / "out" / "images" / "train").iterdir())
    assert train == ["hp_0.png", "hp_1.png", "hp_2.png", "incident_0.png", "incident_1.png"]
    label = tmp_path / "out" / "labels" / "train" / "incident_0.txt"
    assert label.read_text() == "0 0.5 0.5 0.2 0.2\n"


def test_two_sets_with_an_image_of_the_same_name_are_refused(tmp_path: Path) -> None:
    first = write_set(tmp_path / "first", "frame_", {"train": 2, "val": 1})
    second = write_set(tmp_path / "second", "frame_", {"train": 1, "val": 1})
    with pytest.raises(ValueError, match=r"train: .*second.*frame_0.*first.*frame_0"):
        prepare_dataset([first, second], None, POLICY, seed=1, out=tmp_path / "out")


def test_a_set_without_val_adds_training_frames_only_and_a_wrong_path_is_refused(
    tmp_path: Path,
) -> None:
    shared = write_set(tmp_path / "shared", "hp_", {"train": 2, "val": 2})
    local = write_set(tmp_path / "local", "cam_", {"train": 3})
    data_yaml = prepare_dataset([shared, local], None, POLICY, seed=1, out=tmp_path / "out")
    assert yaml.safe_load(data_yaml.read_text())["counts"] == {"train": 5, "val": 2}
    with pytest.raises(ValueError, match=r"typo: no images/ folder"):
        prepare_dataset([shared, tmp_path / "typo"], None, POLICY, seed=1, out=tmp_path / "o2")
    with pytest.raises(ValueError, match=r"shared: given twice as a lookout set"):
        prepare_dataset([shared, shared], None, POLICY, seed=1, out=tmp_path / "o3")
