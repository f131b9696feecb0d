"""Reading a YOLO split: paths, labels, negatives, and clear errors on bad label files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.dataset import DatasetError, label_path, load_split, read_labels


def test_the_val_split_of_the_tiny_dataset(tiny_dataset: Path) -> None:
    split = load_split(tiny_dataset, "val")
    assert split.class_names == ("smoke", "fire")
    assert [image.path.stem for image in split.images] == [
        "a_plume",
        "b_two_plumes",
        "c_dim_plume",
        "d_cloud",
        "e_negative",
        "f_negative_cloud",
    ]
    assert split.negatives == 2
    first = split.images[0].truth
    np.testing.assert_allclose(first.boxes, [[0.125, 1 / 6, 0.25, 1 / 3]], atol=1e-6)
    assert first.class_ids.tolist() == [0]
    assert len(load_split(tiny_dataset, "val", limit=2).images) == 2


def test_a_split_given_as_a_list_file(tiny_dataset: Path, tmp_path: Path) -> None:
    listing = tmp_path / "val.txt"
    listing.write_text(str(tiny_dataset.parent / "images/val/a_plume.jpg") + "\n")
    data = tmp_path / "data.yaml"
    data.write_text(f"path: {tiny_dataset.parent}\nval: {listing}\nnames: [smoke, fire]\n")
    split = load_split(data, "val")
    assert [image.path.name for image in split.images] == ["a_plume.jpg"]


def test_label_path_replaces_the_last_images_folder() -> None:
    assert label_path(Path("/d/images/x/images/val/a.jpg")) == Path("/d/images/x/labels/val/a.txt")


def test_missing_label_file_is_a_negative(tmp_path: Path) -> None:
    assert len(read_labels(tmp_path / "absent.txt", 2).class_ids) == 0


def test_a_segment_label_becomes_its_bounding_box(tmp_path: Path) -> None:
    labels = tmp_path / "a.txt"
    labels.write_text("1 0.1 0.2 0.5 0.2 0.3 0.6\n")
    found = read_labels(labels, 2)
    np.testing.assert_allclose(found.boxes, [[0.1, 0.2, 0.5, 0.6]])
    assert found.class_ids.tolist() == [1]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0 0.5 0.5 0.1", "expected 'class cx cy w h'"),
        ("smoke 0.5 0.5 0.1 0.1", "not numbers"),
        ("7 0.5 0.5 0.1 0.1", "class 7 outside 0..1"),
        ("0 0.5 0.5 0.0 0.1", "empty box"),
    ],
)
def test_bad_label_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    labels = tmp_path / "bad.txt"
    labels.write_text("0 0.5 0.5 0.1 0.1\n" + line + "\n")
    with pytest.raises(DatasetError, match=rf"bad\.txt:2: {message}"):
        read_labels(labels, 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("train: images/train\nnames: [smoke]\n", "no 'val' split"),
        ("val: nowhere\nnames: [smoke]\n", "not a folder or a .txt list"),
        ("val: images\nnames: 3\n", "'names' must be a list"),
    ],
)
def test_bad_data_yaml(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "images").mkdir()
    data = tmp_path / "data.yaml"
    data.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_split(data, "val")
