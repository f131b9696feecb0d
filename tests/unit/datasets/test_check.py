"""The dataset checker: each kind of defect is found, a clean dataset passes."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from vigifeu.cli import main
from vigifeu.datasets.check import check_dataset


def write_image(path: Path, grey: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((24, 32, 3), grey, np.uint8)
    image[4:8, 4:8] = 255 - grey  # something that is not flat, so the JPEG is a real image
    assert cv2.imwrite(str(path), image)


def write_label(root: Path, split: str, stem: str, text: str) -> None:
    path = root / "labels" / split / f"{stem}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    for split, grey in (("train", 10), ("val", 200)):
        write_image(root / "images" / split / "a.jpg", grey)
        write_label(root, split, "a", "0 0.5 0.5 0.2 0.2\n1 0.2 0.2 0.1 0.1\n")
        write_image(root / "images" / split / "neg.jpg", grey + 20)
        write_label(root, split, "neg", "")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnc: 2\n")
    return root


def codes(root: Path, **kwargs: bool) -> set[str]:
    return {f"{f.severity}:{f.code}" for f in check_dataset(root, **kwargs).findings}


def test_clean_dataset_passes_with_counts(clean: Path) -> None:
    report = check_dataset(clean)
    assert report.ok
    assert report.findings == []
    assert report.splits["train"].images == 2
    assert report.splits["train"].negatives == 1
    assert report.splits["val"].boxes == {"smoke": 1, "fire": 1}


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("0 0.5 0.5 0.2", "error:bad-line"),  # 4 fields
        ("smoke 0.5 0.5 0.2 0.2", "error:bad-line"),  # class is not an index
        ("2 0.5 0.5 0.2 0.2", "error:unknown-class"),
        ("0 0.5 1.5 0.2 0.2", "error:out-of-range"),  # pixel coordinates, not normalised
        ("0 0.5 0.5 nan 0.2", "error:out-of-range"),
        ("0 0.5 0.5 0.0 0.2", "error:empty-box"),
        ("0 0.95 0.5 0.2 0.2", "warning:box-exceeds-image"),
    ],
)
def test_bad_label_lines(clean: Path, line: str, code: str) -> None:
    write_label(clean, "train", "a", line + "\n")
    assert codes(clean) == {code}


def test_repeated_box_is_a_warning(clean: Path) -> None:
    write_label(clean, "train", "a", "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n")
    report = check_dataset(clean)
    assert report.ok
    assert codes(clean) == {"warning:duplicate-box"}


def test_missing_label_is_an_error_unless_declared_negative(clean: Path) -> None:
    (clean / "labels" / "train" / "neg.txt").unlink()
    assert codes(clean) == {"error:missing-label"}
    report = check_dataset(clean, missing_is_negative=True)
    assert report.ok
    assert report.splits["train"].negatives == 1


def test_label_without_image_is_an_error(clean: Path) -> None:
    write_label(clean, "val", "ghost", "0 0.5 0.5 0.1 0.1\n")
    assert codes(clean) == {"error:orphan-label"}


def test_unreadable_image_is_an_error(clean: Path) -> None:
    (clean / "images" / "train" / "a.jpg").write_bytes(b"not a jpeg")
    assert codes(clean) == {"error:unreadable-image"}


def test_same_pixels_in_two_splits_is_a_leak(clean: Path) -> None:
    # A byte-different copy of the same pixels: PNG in val of a train JPEG's decoded pixels.
    pixels = cv2.imread(str(clean / "images" / "train" / "a.jpg"))
    assert cv2.imwrite(str(clean / "images" / "val" / "copy.png"), pixels)
    write_label(clean, "val", "copy", "")
    report = check_dataset(clean)
    assert not report.ok
    assert codes(clean) == {"error:cross-split-duplicate"}


def test_same_pixels_within_a_split_is_a_warning(clean: Path) -> None:
    pixels = cv2.imread(str(clean / "images" / "train" / "a.jpg"))
    assert cv2.imwrite(str(clean / "images" / "train" / "copy.png"), pixels)
    write_label(clean, "train", "copy", "")
    assert codes(clean) == {"warning:duplicate-in-split"}


def test_cli_exit_code_and_report(
    clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_label(clean, "train", "a", "7 0.5 0.5 0.2 0.2\n")
    report_path = tmp_path / "report.json"
    assert main(["dataset", "check", str(clean), "--report", str(report_path)]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["errors"] == 1
    assert summary["by_code"] == {"error:unknown-class": 1}
    assert json.loads(report_path.read_text())["findings"][0]["code"] == "unknown-class"
