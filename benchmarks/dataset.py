"""Read one split of a YOLO dataset (ultralytics ``data.yaml``): image paths and their ground truth.

Paths follow ultralytics' rules: ``path`` is the root (relative to the yaml's folder here, as the
shared datasets state), a split is a folder, a ``.txt`` list of images, or a list of either, and
an image's labels live at the same place with ``/images/`` replaced by ``/labels/`` and a
``.txt`` suffix. A missing label file means a negative image, as in ultralytics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.metrics import ImageBoxes

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


class DatasetError(ValueError):
    """A data yaml, split or label file that cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class LabelledImage:
    path: Path
    truth: ImageBoxes  # normalised xyxy boxes and class ids


@dataclass(frozen=True, slots=True)
class DatasetSplit:
    data_yaml: Path
    split: str
    class_names: tuple[str, ...]
    images: tuple[LabelledImage, ...]

    @property
    def negatives(self) -> int:
        return sum(1 for image in self.images if len(image.truth.class_ids) == 0)


def label_path(image_path: Path) -> Path:
    parts = list(image_path.parts)
    if "images" not in parts:
        raise DatasetError(f"{image_path}: no 'images' folder in the path to map to its labels")
    at = len(parts) - 1 - parts[::-1].index("images")
    parts[at] = "labels"
    return Path(*parts).with_suffix(".txt")


def read_labels(path: Path, class_count: int) -> ImageBoxes:
    """Boxes of one YOLO label file (``class cx cy w h`` or a polygon ``class x1 y1 x2 y2 ...``)."""
    if not path.exists():
        return ImageBoxes.build([], [])
    boxes: list[list[float]] = []
    classes: list[int] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            class_id, values = int(fields[0]), [float(value) for value in fields[1:]]
        except ValueError:
            raise DatasetError(f"{path}:{number}: not numbers: {line!r}") from None
        if not 0 <= class_id < class_count:
            raise DatasetError(f"{path}:{number}: class {class_id} outside 0..{class_count - 1}")
        if len(values) == 4:
            cx, cy, w, h = values
            box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
        elif len(values) >= 6 and len(values) % 2 == 0:  # segment: its bounding box
            xs, ys = values[0::2], values[1::2]
            box = [min(xs), min(ys), max(xs), max(ys)]
        else:
            raise DatasetError(f"{path}:{number}: expected 'class cx cy w h', got {line!r}")
        box = [min(max(value, 0.0), 1.0) for value in box]
        if box[2] <= box[0] or box[3] <= box[1]:
            raise DatasetError(f"{path}:{number}: empty box {line!r}")
        boxes.append(box)
        classes.append(class_id)
    return ImageBoxes.build(boxes, classes)


def _class_names(raw: dict[str, Any], data_yaml: Path) -> tuple[str, ...]:
    names = raw.get("names")
    if isinstance(names, dict):
        return tuple(str(names[index]) for index in sorted(names))
    if isinstance(names, list):
        return tuple(str(name) for name in names)
    raise DatasetError(f"{data_yaml}: 'names' must be a list or a mapping")


def _split_images(entry: Any, root: Path, data_yaml: Path) -> list[Path]:
    entries = entry if isinstance(entry, list) else [entry]
    images: list[Path] = []
    for item in entries:
        location = Path(str(item))
        location = location if location.is_absolute() else root / location
        if location.is_dir():
            images += [p for p in location.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
        elif location.suffix == ".txt" and location.is_file():
            for line in location.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    listed = Path(line.strip())
                    images.append(listed if listed.is_absolute() else root / listed)
        else:
            raise DatasetError(f"{data_yaml}: split entry {item!r} is not a folder or a .txt list")
    return sorted(images)


def load_split(data_yaml: Path, split: str, limit: int | None = None) -> DatasetSplit:
    """The images of ``split`` in name order (the first ``limit`` of them), with their boxes."""
    try:
        raw = yaml.safe_load(data_yaml.read_text(encoding="utf-8"))
    except OSError as error:
        raise DatasetError(f"{data_yaml}: cannot read: {error.strerror}") from None
    if not isinstance(raw, dict):
        raise DatasetError(f"{data_yaml}: expected a mapping")
    if split not in raw or raw[split] is None:
        raise DatasetError(f"{data_yaml}: no {split!r} split")
    root = Path(str(raw.get("path", ".")))
    root = root if root.is_absolute() else data_yaml.parent / root
    names = _class_names(raw, data_yaml)
    paths = _split_images(raw[split], root, data_yaml)[:limit]
    if not paths:
        raise DatasetError(f"{data_yaml}: split {split!r} has no images")
    images = tuple(LabelledImage(p, read_labels(label_path(p), len(names))) for p in paths)
    return DatasetSplit(data_yaml, split, names, images)
