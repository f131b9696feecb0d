"""Check a YOLO dataset before anyone trains on it: labels, boxes, classes and leaks across splits.

Errors (the checker exits non-zero): an image without a label file (unless missing labels are
declared to mean negatives), a label without an image, an unreadable image, a malformed line, an
unknown class, an empty box, coordinates outside [0, 1], and the same decoded pixels in two
splits (a val image that is also a train image inflates every metric). Warnings: a box that
sticks out of the image, a repeated box line, the same pixels twice within one split.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import yaml

from vigifeu.datasets.convert import TARGET_CLASSES
from vigifeu.datasets.sources import IMAGE_SUFFIXES

Severity = Literal["error", "warning"]
# Corners may exceed the image by rounding in exports; 1e-3 is 0.6 px at 640.
EDGE_TOLERANCE = 1e-3
REPORTED_FINDINGS = 200


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    code: str
    path: str
    detail: str


@dataclass(slots=True)
class SplitStats:
    images: int = 0
    negatives: int = 0
    boxes: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class CheckReport:
    root: Path
    splits: dict[str, SplitStats] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: Severity, code: str, path: Path | str, detail: str = "") -> None:
        self.findings.append(Finding(severity, code, str(path), detail))

    def count(self, severity: Severity) -> int:
        return sum(finding.severity == severity for finding in self.findings)

    @property
    def ok(self) -> bool:
        return self.count("error") == 0

    def as_dict(self, max_findings: int = REPORTED_FINDINGS) -> dict[str, Any]:
        """JSON-ready summary; every finding code is counted, the first ``max_findings`` listed."""
        return {
            "dataset": str(self.root),
            "ok": self.ok,
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "by_code": dict(Counter(f"{f.severity}:{f.code}" for f in self.findings)),
            "splits": {
                name: {"images": s.images, "negatives": s.negatives, "boxes": dict(s.boxes)}
                for name, s in self.splits.items()
            },
            "findings": [
                {"severity": f.severity, "code": f.code, "path": f.path, "detail": f.detail}
                for f in self.findings[:max_findings]
            ],
        }


def dataset_splits(root: Path) -> dict[str, Path]:
    """Split name -> images folder, from ``data.yaml`` if present, else ``images/*``."""
    data_yaml = root / "data.yaml"
    if data_yaml.is_file():
        document = yaml.safe_load(data_yaml.read_text(encoding="utf-8")) or {}
        splits = {
            split: root / str(document[split])
            for split in ("train", "val", "test")
            if isinstance(document.get(split), str)
        }
        if splits:
            return splits
    return {d.name: d for d in sorted((root / "images").glob("*")) if d.is_dir()}


def pixel_digest(image_path: Path) -> str | None:
    """sha256 of the decoded pixels (shape included): re-encoded copies hash differently, but
    byte-different files with the same pixels (metadata, other JPEG tables) hash the same."""
    image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    if image is None:
        return None
    digest = hashlib.sha256(str(image.shape).encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def check_label(label: Path, report: CheckReport, stats: SplitStats, class_count: int) -> int:
    """Check one label file's lines; returns the number of valid boxes."""
    valid = 0
    seen: set[str] = set()
    for number, line in enumerate(label.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{label}:{number}"
        try:
            if len(fields) != 5:
                raise ValueError(f"{len(fields)} fields")
            class_id, cx, cy, w, h = int(fields[0]), *(float(value) for value in fields[1:])
        except ValueError as error:
            report.add("error", "bad-line", where, f"not 'class cx cy w h': {error}")
            continue
        if not 0 <= class_id < class_count:
            report.add("error", "unknown-class", where, f"class {class_id}")
            continue
        values = (cx, cy, w, h)
        if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values):
            report.add("error", "out-of-range", where, f"values {values} not all in [0, 1]")
            continue
        if w <= 0 or h <= 0:
            report.add("error", "empty-box", where, f"width {w}, height {h}")
            continue
        corners = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if min(corners) < -EDGE_TOLERANCE or max(corners) > 1 + EDGE_TOLERANCE:
            report.add("warning", "box-exceeds-image", where, f"corners {corners}")
        canonical = " ".join(fields)
        if canonical in seen:
            report.add("warning", "duplicate-box", where, canonical)
        seen.add(canonical)
        stats.boxes[_class_name(class_id)] += 1
        valid += 1
    return valid


def _class_name(class_id: int) -> str:
    return TARGET_CLASSES[class_id] if class_id < len(TARGET_CLASSES) else str(class_id)


def check_dataset(
    root: Path, *, missing_is_negative: bool = False, class_count: int = len(TARGET_CLASSES)
) -> CheckReport:
    report = CheckReport(root)
    splits = dataset_splits(root)
    if not splits:
        report.add("error", "no-splits", root, "no data.yaml splits and no images/<split> folder")
    pixels: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    for split, images_dir in splits.items():
        stats = report.splits.setdefault(split, SplitStats())
        labels_dir = images_dir.parent.parent / "labels" / images_dir.name
        if not images_dir.is_dir():
            report.add("error", "missing-split", images_dir, f"split {split!r} has no folder")
            continue
        images = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        labels = {p.stem: p for p in labels_dir.glob("*.txt")} if labels_dir.is_dir() else {}
        for stem in sorted(set(labels) - {image.stem for image in images}):
            report.add("error", "orphan-label", labels[stem], "label without an image")
        for stem, count in Counter(image.stem for image in images).items():
            if count > 1:
                report.add("error", "ambiguous-name", images_dir / stem, f"{count} images")
        for image in images:
            stats.images += 1
            label = labels.get(image.stem)
            boxes = 0
            if label is not None:
                boxes = check_label(label, report, stats, class_count)
            elif not missing_is_negative:
                report.add("error", "missing-label", image, "image without a label file")
            stats.negatives += boxes == 0
            digest = pixel_digest(image)
            if digest is None:
                report.add("error", "unreadable-image", image, "cannot be decoded")
            else:
                pixels[digest].append((split, image))
    for places in pixels.values():
        if len(places) < 2:
            continue
        names = ", ".join(f"{split}:{path.name}" for split, path in places)
        if len({split for split, _ in places}) > 1:
            report.add("error", "cross-split-duplicate", places[0][1], f"same pixels: {names}")
        else:
            report.add("warning", "duplicate-in-split", places[0][1], f"same pixels: {names}")
    return report
