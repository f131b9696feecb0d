"""Write ``SourceImage`` values (from ``sources``) as our YOLO dataset, remapping classes.

Images are copied byte for byte (no re-encode, so pixel hashes stay comparable across sets);
boxes are clipped to the image, and boxes that collapse when clipped are dropped and counted.
A source class that the class map does not name is an error, not a silent drop: a new class in a
new release of a public set must be a decision, not an accident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vigifeu.datasets.sources import SourceBox, SourceImage

TARGET_CLASSES: tuple[str, ...] = ("smoke", "fire")
DROP = "drop"
ANY_CLASS = "*"
# Boxes thinner than this (normalised) after clipping carry no pixels at 640 px; 1e-4 is 0.06 px.
MIN_BOX_SIDE = 1e-4


class ConversionError(ValueError):
    """The conversion cannot go on; the message says which input and why."""


@dataclass(frozen=True, slots=True)
class ClassMap:
    """Source class name or index -> our class index (0 smoke, 1 fire), or ``None`` to drop."""

    targets: dict[str, int | None]

    @classmethod
    def parse(cls, spec: str) -> ClassMap:
        """``"0=smoke,1=fire,flame=fire,person=drop,*=drop"``; keys are case-insensitive.

        ``*`` is the fallback for every source class the map does not name.
        """
        targets: dict[str, int | None] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            source, sep, target = item.partition("=")
            target = target.strip().lower()
            if not sep or not source.strip():
                raise ConversionError(f"class map item {item!r} is not SOURCE=TARGET")
            if target == DROP:
                targets[source.strip().lower()] = None
            elif target in TARGET_CLASSES:
                targets[source.strip().lower()] = TARGET_CLASSES.index(target)
            else:
                raise ConversionError(
                    f"class map item {item!r}: target must be one of {TARGET_CLASSES} or {DROP!r}"
                )
        if not targets:
            raise ConversionError("empty class map")
        return cls(targets)

    def target(self, keys: tuple[str, ...]) -> int | None:
        """Our class for a box named ``keys`` (first match wins); raises if none is mapped."""
        for key in (*(k.lower() for k in keys), ANY_CLASS):
            if key in self.targets:
                return self.targets[key]
        raise ConversionError(f"source class {' / '.join(keys)} is not in the class map")


@dataclass(slots=True)
class ConversionSummary:
    images: Counter[str] = field(default_factory=Counter)  # per split
    negatives: Counter[str] = field(default_factory=Counter)
    boxes: Counter[str] = field(default_factory=Counter)  # per "split/class"
    dropped_by_class_map: int = 0
    clipped: int = 0
    degenerate: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "images": dict(self.images),
            "negatives": dict(self.negatives),
            "boxes": dict(self.boxes),
            "dropped_by_class_map": self.dropped_by_class_map,
            "clipped": self.clipped,
            "degenerate": self.degenerate,
        }


def clip_box(box: SourceBox) -> tuple[float, float, float, float] | None:
    """cx, cy, w, h clipped to the unit square (unchanged if inside it); ``None`` if nothing of
    the box is left."""
    x_min, x_max = box.cx - box.w / 2, box.cx + box.w / 2
    y_min, y_max = box.cy - box.h / 2, box.cy + box.h / 2
    if min(x_min, y_min) >= 0.0 and max(x_max, y_max) <= 1.0 and min(box.w, box.h) >= MIN_BOX_SIDE:
        return box.cx, box.cy, box.w, box.h
    x_min, x_max = max(x_min, 0.0), min(x_max, 1.0)
    y_min, y_max = max(y_min, 0.0), min(y_max, 1.0)
    if x_max - x_min < MIN_BOX_SIDE or y_max - y_min < MIN_BOX_SIDE:
        return None
    return (x_min + x_max) / 2, (y_min + y_max) / 2, x_max - x_min, y_max - y_min


def label_lines(
    boxes: tuple[SourceBox, ...], class_map: ClassMap, summary: ConversionSummary, split: str
) -> list[str]:
    lines = []
    for box in boxes:
        target = class_map.target(box.class_keys)
        if target is None:
            summary.dropped_by_class_map += 1
            continue
        clipped = clip_box(box)
        if clipped is None:
            summary.degenerate += 1
            continue
        if clipped != (box.cx, box.cy, box.w, box.h):
            summary.clipped += 1
        summary.boxes[f"{split}/{TARGET_CLASSES[target]}"] += 1
        lines.append(f"{target} " + " ".join(f"{value:.6f}" for value in clipped))
    return lines


def write_data_yaml(out: Path) -> Path:
    """``data.yaml`` listing every split folder present under ``out/images``."""
    splits = sorted(d.name for d in (out / "images").iterdir() if d.is_dir())
    document: dict[str, Any] = {"path": "."}
    document.update({split: f"images/{split}" for split in splits})
    document.update(nc=len(TARGET_CLASSES), names=dict(enumerate(TARGET_CLASSES)))
    path = out / "data.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def convert(
    items: Iterable[SourceImage], out: Path, class_map: ClassMap, *, prefix: str = ""
) -> ConversionSummary:
    """Write every item under ``out`` (which may already hold other converted sets).

    ``prefix`` tags the output names with their source (``dfire_``...), as the shared sets do. An
    output name that already exists is an error: two sources must not overwrite each other.
    """
    summary = ConversionSummary()
    for item in items:
        split = item.split
        images, labels = out / "images" / split, out / "labels" / split
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        name = f"{prefix}{item.stem}"
        image_out = images / f"{name}{item.suffix.lower()}"
        if image_out.exists():
            raise ConversionError(f"{image_out} already exists (same name twice, or rerun?)")
        lines = label_lines(item.boxes, class_map, summary, split)
        image_out.write_bytes(item.read_bytes())
        (labels / f"{name}.txt").write_text("".join(line + "\n" for line in lines))
        summary.images[split] += 1
        summary.negatives[split] += not lines
    if summary.images:
        write_data_yaml(out)
    return summary
