"""Per-frame filters between the detector and temporal confirmation: pure, no state.

A box is dropped when:

* its score is under the camera's floor;
* it is wider than ``max_box_width_fraction`` of the frame (Pyronear's 0.4: a real plume that
  wide is long confirmed by then, while haze, cloud banks and lens flare produce such boxes);
* at least half of its *area* lies in the exclusion masks. Area, not centre: a large plume whose
  centre happens to fall on a small masked chimney or road is kept, because the mask covers only a
  small part of it; a box that sits on the masked object is dropped. Masks are unioned first, so
  a box straddling two touching masks counts both.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import shapely

from edge.config import ExclusionMask
from edge.messages import Detection

MASKED_AREA_FRACTION = 0.5

Polygon = tuple[tuple[float, float], ...]


@lru_cache(maxsize=256)
def _union(polygons: tuple[Polygon, ...]) -> Any:
    # make_valid: an operator-drawn polygon may cross itself; shapely would then report areas
    # of the wrong sign instead of the area the operator painted.
    shapes = [shapely.make_valid(shapely.Polygon(points)) for points in polygons]
    union = shapely.union_all(shapes)
    shapely.prepare(union)
    return union


def masked_fractions(
    detections: Sequence[Detection], masks: Sequence[ExclusionMask]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Fraction of each box's area that lies inside the union of ``masks`` (0 without masks)."""
    if not masks or not detections:
        return np.zeros(len(detections))
    corners = np.array([(d.x_min, d.y_min, d.x_max, d.y_max) for d in detections])
    boxes = shapely.box(corners[:, 0], corners[:, 1], corners[:, 2], corners[:, 3])
    union = _union(tuple(tuple(mask.polygon) for mask in masks))
    inside = np.asarray(shapely.area(shapely.intersection(boxes, union)), np.float64)
    areas = (corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])
    fractions: np.ndarray[Any, np.dtype[np.float64]] = np.divide(
        inside, areas, out=np.ones_like(areas), where=areas > 0
    )
    return fractions


def filter_detections(
    detections: Sequence[Detection],
    *,
    masks: Sequence[ExclusionMask],
    max_box_width_fraction: float,
    score_floor: float,
) -> tuple[Detection, ...]:
    """The detections that pass the score floor, the width limit and the exclusion masks."""
    plausible = [
        detection
        for detection in detections
        if detection.score >= score_floor and detection.width <= max_box_width_fraction
    ]
    fractions = masked_fractions(plausible, masks)
    return tuple(
        detection
        for detection, fraction in zip(plausible, fractions.tolist(), strict=True)
        if fraction < MASKED_AREA_FRACTION
    )
