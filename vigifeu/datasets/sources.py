"""Readers of the annotation formats the public smoke/fire sets ship in.

Each reader yields ``SourceImage`` values: one image (a file, or encoded bytes), its split and its
boxes normalised to the image, each box still named the way the source names its class. Mapping
those names onto our classes is ``convert``'s job, so a reader never guesses a class.

Formats: Pascal VOC xml (FIgLib's HPWREN-BB boxes, FASDD), COCO json (FASDD), YOLO txt (D-Fire,
Roboflow exports), Parquet with YOLO strings (Pyronear's pyro-sdis on Hugging Face) and FIgLib
timelines (frame-level labels only: the frames before ignition are negatives).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import yaml

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
SPLIT_ALIASES = {"valid": "val", "validation": "val", "training": "train", "testing": "test"}
# FIgLib frame names are "<unix time>_<offset from ignition in s>.jpg", e.g. 1532797141_-02400.jpg.
FIGLIB_FRAME = re.compile(r"^(?P<unix>\d+)_(?P<offset>[+-]?\d+)$")
_VOC_CORNERS = ("xmin", "ymin", "xmax", "ymax")


class SourceFormatError(ValueError):
    """An annotation file that does not follow its format; the message names file and place."""


@dataclass(frozen=True, slots=True)
class SourceBox:
    """A box normalised to its image (may stick out of it: ``convert`` clips)."""

    class_keys: tuple[str, ...]  # the source's names for the class, e.g. ("0", "smoke")
    cx: float
    cy: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class SourceImage:
    split: str
    stem: str
    suffix: str
    boxes: tuple[SourceBox, ...]
    path: Path | None = None  # either a file ...
    data: bytes | None = None  # ... or the encoded image itself

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.path is None:
            raise SourceFormatError(f"{self.stem}: image has neither a file nor bytes")
        return self.path.read_bytes()


def normalise_split(split: str) -> str:
    return SPLIT_ALIASES.get(split.lower(), split.lower())


def box_from_corners(
    keys: tuple[str, ...],
    x_min: float,
    y_min: float,
    x_max: float,
    y_max: float,
    size: tuple[int, int],
) -> SourceBox:
    """A pixel-corner box of an image of ``size`` = (width, height), normalised."""
    width, height = size
    return SourceBox(
        keys,
        (x_min + x_max) / 2 / width,
        (y_min + y_max) / 2 / height,
        (x_max - x_min) / width,
        (y_max - y_min) / height,
    )


def _image_size(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise SourceFormatError(f"{path}: not a readable image")
    return int(image.shape[1]), int(image.shape[0])


def _find_image(folder: Path, filename: str, stem: str) -> Path:
    named = folder / filename
    if filename and named.is_file():
        return named
    for suffix in IMAGE_SUFFIXES:
        candidate = folder / (stem + suffix)
        if candidate.is_file():
            return candidate
    raise SourceFormatError(f"{folder}: no image {filename or stem + '.*'}")


def read_voc(annotations: Path, images: Path | None, split: str) -> Iterator[SourceImage]:
    """Pascal VOC: one xml per image (``<size>``, ``<object><name>``, ``<bndbox>`` in pixels)."""
    for xml_path in sorted(annotations.rglob("*.xml")):
        try:
            root = ElementTree.parse(xml_path).getroot()
        except ElementTree.ParseError as error:
            raise SourceFormatError(f"{xml_path}: not valid XML: {error}") from None
        filename = (root.findtext("filename") or "").strip()
        image = _find_image(images or xml_path.parent, filename, xml_path.stem)
        width = int(float(root.findtext("size/width") or 0))
        height = int(float(root.findtext("size/height") or 0))
        size = (width, height) if width > 0 and height > 0 else _image_size(image)
        boxes = []
        for number, obj in enumerate(root.iter("object"), start=1):
            name = (obj.findtext("name") or "").strip()
            try:
                x_min, y_min, x_max, y_max = (
                    float(obj.findtext(f"bndbox/{k}") or "") for k in _VOC_CORNERS
                )
            except ValueError:
                raise SourceFormatError(f"{xml_path}: object {number}: bad <bndbox>") from None
            boxes.append(box_from_corners((name,), x_min, y_min, x_max, y_max, size=size))
        yield SourceImage(normalise_split(split), image.stem, image.suffix, tuple(boxes), image)


def read_coco(annotation_file: Path, images: Path, split: str) -> Iterator[SourceImage]:
    """COCO detection json: ``images``, ``categories``, ``annotations`` with ``bbox`` = x, y, w, h."""
    try:
        document = json.loads(annotation_file.read_text(encoding="utf-8"))
        categories = {c["id"]: c["name"] for c in document["categories"]}
        by_image: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for annotation in document.get("annotations", []):
            by_image[annotation["image_id"]].append(annotation)
        entries = document["images"]
    except (ValueError, KeyError, TypeError) as error:
        raise SourceFormatError(f"{annotation_file}: not a COCO detection file: {error}") from None
    for entry in entries:
        path = images / entry["file_name"]
        size = (int(entry["width"]), int(entry["height"]))
        boxes = []
        for annotation in by_image[entry["id"]]:
            x, y, w, h = (float(v) for v in annotation["bbox"])
            category = annotation["category_id"]
            keys = (str(categories.get(category, category)), str(category))
            boxes.append(box_from_corners(keys, x, y, x + w, y + h, size=size))
        yield SourceImage(normalise_split(split), path.stem, path.suffix, tuple(boxes), path)


def parse_yolo_lines(text: str, names: dict[int, str], where: str) -> tuple[SourceBox, ...]:
    """``class cx cy w h`` lines; the class keys are the index and, if known, its name."""
    boxes = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            if len(fields) != 5:
                raise ValueError(f"{len(fields)} fields")
            class_id = int(fields[0])
            cx, cy, w, h = (float(value) for value in fields[1:])
        except ValueError as error:
            raise SourceFormatError(f"{where}:{number}: not 'class cx cy w h': {error}") from None
        keys = (str(class_id), names[class_id]) if class_id in names else (str(class_id),)
        boxes.append(SourceBox(keys, cx, cy, w, h))
    return tuple(boxes)


def _yolo_names(root: Path) -> dict[int, str]:
    data_yaml = root / "data.yaml"
    if not data_yaml.is_file():
        return {}
    names = (yaml.safe_load(data_yaml.read_text(encoding="utf-8")) or {}).get("names") or {}
    return (
        dict(enumerate(names)) if isinstance(names, list) else {int(k): v for k, v in names.items()}
    )


def _yolo_splits(root: Path, default_split: str) -> list[tuple[str, Path, Path]]:
    """(split, images dir, labels dir): ``images/<split>``, ``<split>/images`` or flat ``images``."""
    found = [
        (d.name, d, root / "labels" / d.name)
        for d in sorted((root / "images").glob("*"))
        if d.is_dir()
    ]
    found += [
        (d.name, d / "images", d / "labels")
        for d in sorted(root.glob("*/"))
        if (d / "images").is_dir()
    ]
    if not found and (root / "images").is_dir():
        found = [(default_split, root / "images", root / "labels")]
    if not found:
        raise SourceFormatError(f"{root}: no images/<split>, <split>/images or images/ folder")
    return [(normalise_split(split), images, labels) for split, images, labels in found]


def read_yolo(root: Path, default_split: str) -> Iterator[SourceImage]:
    """A YOLO dataset in any of the usual layouts; a missing label file means a negative."""
    names = _yolo_names(root)
    for split, images, labels in _yolo_splits(root, default_split):
        for image in sorted(images.iterdir()):
            if image.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            label = labels / (image.stem + ".txt")
            text = label.read_text(encoding="utf-8") if label.is_file() else ""
            boxes = parse_yolo_lines(text, names, str(label))
            yield SourceImage(split, image.stem, image.suffix, boxes, image)


def read_parquet(source: Path, default_split: str) -> Iterator[SourceImage]:
    """Hugging Face image Parquet (pyro-sdis): ``image`` {bytes}, ``annotations`` (YOLO lines),
    ``image_name``; the split is the file-name prefix (``train-00000-of-00006.parquet``)."""
    import polars

    files = sorted(source.rglob("*.parquet")) if source.is_dir() else [source]
    for file in files:
        prefix = file.name.split("-", 1)[0]
        split = normalise_split(
            prefix if prefix in ("train", "val", "valid", "test") else default_split
        )
        try:
            table = polars.read_parquet(file, columns=["image", "annotations", "image_name"])
        except (polars.exceptions.PolarsError, OSError) as error:
            raise SourceFormatError(f"{file}: not a pyro-sdis Parquet file: {error}") from None
        for row in table.iter_rows(named=True):
            name = Path(str(row["image_name"]))
            boxes = parse_yolo_lines(row["annotations"] or "", {}, f"{file}:{name}")
            data = (row["image"] or {}).get("bytes")
            if not data:
                raise SourceFormatError(f"{file}: row {name} has no image bytes")
            yield SourceImage(split, name.stem, name.suffix or ".jpg", boxes, data=data)


def read_figlib(source: Path, split: str) -> Iterator[SourceImage]:
    """FIgLib fire folders: frames before ignition (negative offset) become negatives.

    FIgLib labels frames only as before/after the reported ignition, without boxes, so frames
    after it cannot be YOLO positives (boxes come from HPWREN-BB in VOC format, see
    ``datasets/fetch_figlib.sh``). Output stems are prefixed with the fire folder's name.
    """
    for frame in sorted(source.rglob("*.jpg")):
        match = FIGLIB_FRAME.match(frame.stem)
        if match is None or int(match["offset"]) >= 0:
            continue
        fire = frame.parent.name
        yield SourceImage(normalise_split(split), f"{fire}_{frame.stem}", frame.suffix, (), frame)
