"""Figures of one input setting of ``bench input-size``, and which setting to ship.

Per setting: the ``bench accuracy`` figures, recall on small plumes, p50 milliseconds, and smoke
AP50 in each round of a bootstrap over the val images. The choice: the cheapest setting whose
smoke AP50 is not shown to be worse than the best. A val set of ~100 plumes moves AP50 by several points when a handful of boxes flip, so a point
estimate alone would pay 40% more CPU for noise. The rule: take the setting of best AP50; a
setting stays in the race unless the paired bootstrap over val images (same resampled images
for every setting) puts the best one ahead by more than ``tolerance`` with 95% confidence, i.e.
unless the 2.5th percentile of (best - setting) exceeds the tolerance. The cheapest setting still
in the race wins. Without resamples the rule reads the point estimates: within ``tolerance``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.accuracy import measure
from benchmarks.bootstrap import (
    LOWER_PERCENTILE,
    Counts,
    interval95,
    resampled_ap50,
    truths_per_image,
)
from benchmarks.dataset import DatasetSplit
from benchmarks.metrics import ClassMatches, Floats, ImageBoxes
from benchmarks.model import BenchModel

TOLERANCE_AP50 = 0.01  # one AP50 point
# Research notes (smoke-detection-methods.md §2.4): judge the resolution on small plumes apart.
SMALL_BOX_MAX_AREA = 0.01  # fraction of the frame


@dataclass(frozen=True, slots=True)
class Setting:
    """One way to run the checkpoint: square input side, and 1 (whole frame) or 2 (2x2 tiles)."""

    size_px: int
    tiles: int = 1

    @property
    def label(self) -> str:
        return f"{self.size_px}" if self.tiles == 1 else f"{self.size_px} 2x2 tiles"


@dataclass(frozen=True, slots=True)
class Measured:
    """Predictions and per-frame milliseconds of one setting over the split."""

    predictions: tuple[ImageBoxes, ...]
    inference_ms: tuple[float, ...]
    total_ms: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    label: str
    ap50: float | None
    cost_ms: float
    ap50_resampled: Floats = field(default_factory=lambda: np.zeros(0))  # one per round


@dataclass(frozen=True, slots=True)
class Decision:
    choice: str | None
    best: str | None
    # per label: how far the best is ahead, at 95% confidence (the point gap without rounds)
    gap_to_best: dict[str, float]


def gap_to(best: Candidate, other: Candidate) -> float:
    """The 2.5th percentile of (best - other) AP50 over the paired rounds, else the point gap."""
    gaps = best.ap50_resampled - other.ap50_resampled
    gaps = gaps[np.isfinite(gaps)]
    if len(gaps):
        return float(np.percentile(gaps, LOWER_PERCENTILE))
    return (best.ap50 or 0.0) - (other.ap50 or 0.0)


def decide(candidates: Sequence[Candidate], tolerance: float = TOLERANCE_AP50) -> Decision:
    """The cheapest candidate not shown worse than the best (choice None: no AP at all).

    Ties on cost go to the higher AP50. The 1e-9 slack keeps a gap of exactly ``tolerance``
    in the race, whatever the float rounding of the two means."""
    scored = [c for c in candidates if c.ap50 is not None]
    if not scored:
        return Decision(None, None, {})
    best = max(scored, key=lambda c: c.ap50 or 0.0)
    gaps = {c.label: gap_to(best, c) for c in scored}
    racing = [
        (c.cost_ms, -(c.ap50 or 0.0), c.label) for c in scored if gaps[c.label] <= tolerance + 1e-9
    ]
    return Decision(min(racing)[2], best.label, gaps)


def small_box_recall(
    split: DatasetSplit, matches: ClassMatches, threshold: float
) -> tuple[int, float | None]:
    """(boxes, recall at IoU 0.5 and ``threshold``) of the class's boxes under 1% of the frame.

    Matching is greedy by score, so the boxes matched by detections at or above the threshold
    are those a run floored at the threshold would match."""
    small = [
        (i, int(g))
        for i, image in enumerate(split.images)
        for g in np.flatnonzero(image.truth.class_ids == matches.class_id)
        if np.prod(image.truth.boxes[g, 2:] - image.truth.boxes[g, :2]) < SMALL_BOX_MAX_AREA
    ]
    if not small:
        return 0, None
    found = [matches.gt_match_score.get(key) for key in small]
    return len(small), sum(1 for s in found if s is not None and s >= threshold) / len(small)


def _median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


def setting_metrics(
    setting: Setting,
    model: BenchModel,
    split: DatasetSplit,
    measured: Measured,
    threshold: float,
    counts: Counts,
) -> tuple[dict[str, Any], Candidate]:
    """The ``metrics.json`` entry of one setting, and the setting as a candidate of the choice."""
    # One view per setting: the sizes are compared on the same work (input_size.py).
    matches, accuracy = measure(split, measured.predictions, model, threshold, mirror=False)
    classes = dict(accuracy["classes"])
    inference_ms = _median(measured.inference_ms)
    resampled = np.zeros(0)
    if "smoke" in split.class_names:
        smoke_matches = matches[split.class_names.index("smoke")]
        truths = truths_per_image(split, smoke_matches.class_id)
        resampled = resampled_ap50(smoke_matches, truths, counts)
        small_boxes, small_recall = small_box_recall(split, smoke_matches, threshold)
        interval = interval95(resampled)
        classes["smoke"] = classes["smoke"] | {
            "ap50_ci95": list(interval) if interval else None,
            "small_boxes": small_boxes,
            "small_recall": small_recall,
        }
    ap50 = classes.get("smoke", {}).get("ap50")
    row = {
        "label": setting.label,
        "size_px": setting.size_px,
        "tiles": setting.tiles,
        "onnx": str(model.path),
        "onnx_sha256": model.info.sha256,
        "classes": classes,
        "negatives": accuracy["negatives"],
        "inference_ms_p50": inference_ms,
        "total_ms_p50": _median(measured.total_ms),
        "smoke_ap50_per_100ms": (
            100.0 * ap50 / inference_ms if ap50 is not None and inference_ms else None
        ),
    }
    return row, Candidate(setting.label, ap50, inference_ms or 0.0, resampled)
