"""Which input setting to ship: the cheapest one whose smoke AP50 is not shown to be worse.

A val set of ~100 plumes moves AP50 by several points when a handful of boxes flip, so a point
estimate alone would pay 40% more CPU for noise. The rule: take the setting of best AP50; a
setting stays in the race unless the paired bootstrap over val images (same resampled images
for every setting) puts the best one ahead by more than ``tolerance`` with 95% confidence, i.e.
unless the 2.5th percentile of (best - setting) exceeds the tolerance. The cheapest setting still
in the race wins. Without resamples the rule reads the point estimates: within ``tolerance``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from benchmarks.metrics import ClassMatches, Floats, average_precision

TOLERANCE_AP50 = 0.01  # one AP50 point
BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 0
LOWER_PERCENTILE = 2.5  # of a two-sided 95% interval
Counts = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Candidate:
    label: str
    ap50: float | None
    cost_ms: float
    ap50_resampled: Floats = field(default_factory=lambda: np.zeros(0))  # one per round


def resample_counts(
    images: int, rounds: int = BOOTSTRAP_ROUNDS, seed: int = BOOTSTRAP_SEED
) -> Counts:
    """(rounds, images): how many times each image is drawn in each bootstrap round."""
    rng = np.random.default_rng(seed)
    counts: Counts = rng.multinomial(images, np.full(images, 1.0 / images), size=rounds)
    return counts


def resampled_ap50(matches: ClassMatches, truths_per_image: Counts, counts: Counts) -> Floats:
    """AP50 of the class in each bootstrap round (NaN in a round that drew none of its boxes).

    An image drawn k times contributes its ranked detections and its boxes k times; repeating
    each detection in place keeps the ranking by score."""
    results = np.full(len(counts), np.nan)
    for round_index, drawn in enumerate(counts):
        boxes = int(drawn @ truths_per_image)
        if boxes:
            repeated = np.repeat(matches.matched[0], drawn[matches.image_index])
            results[round_index] = average_precision(repeated, boxes)
    return results


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
