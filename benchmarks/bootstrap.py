"""A paired bootstrap over the images of a split: how far the val set's own noise moves AP50.

A val set of ~100 plumes moves AP50 by several points when a handful of boxes flip. Each round
draws the split's images with replacement; every model (or input setting) is scored on the same
draws, so differences between them are paired and keep only the noise they do not share.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from benchmarks.dataset import DatasetSplit
from benchmarks.metrics import ClassMatches, Floats, average_precision

BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 0
LOWER_PERCENTILE = 2.5  # of a two-sided 95% interval
Counts = npt.NDArray[np.int64]


def resample_counts(
    images: int, rounds: int = BOOTSTRAP_ROUNDS, seed: int = BOOTSTRAP_SEED
) -> Counts:
    """(rounds, images): how many times each image is drawn in each bootstrap round."""
    rng = np.random.default_rng(seed)
    counts: Counts = rng.multinomial(images, np.full(images, 1.0 / images), size=rounds)
    return counts


def truths_per_image(split: DatasetSplit, class_id: int) -> Counts:
    """How many ground-truth boxes of the class each image of the split holds."""
    counts: Counts = np.array(
        [int((image.truth.class_ids == class_id).sum()) for image in split.images], np.int64
    )
    return counts


def resampled_ap50(matches: ClassMatches, truths: Counts, counts: Counts) -> Floats:
    """AP50 of the class in each bootstrap round (NaN in a round that drew none of its boxes).

    An image drawn k times contributes its ranked detections and its boxes k times; repeating
    each detection in place keeps the ranking by score."""
    results = np.full(len(counts), np.nan)
    for round_index, drawn in enumerate(counts):
        boxes = int(drawn @ truths)
        if boxes:
            repeated = np.repeat(matches.matched[0], drawn[matches.image_index])
            results[round_index] = average_precision(repeated, boxes)
    return results


def interval95(rounds: Floats) -> tuple[float, float] | None:
    """The two-sided 95% percentile interval of the finite rounds (None without any)."""
    finite = rounds[np.isfinite(rounds)]
    if not len(finite):
        return None
    low, high = np.percentile(finite, [LOWER_PERCENTILE, 100 - LOWER_PERCENTILE])
    return float(low), float(high)
