from __future__ import annotations

import pytest

from edge.config import ExclusionMask
from edge.events.filters import filter_detections, masked_fractions
from edge.messages import Detection, DetectionClass

BANNER = ExclusionMask(name="banner", polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 0.1), (0.0, 0.1)])
CHIMNEY = ExclusionMask(
    name="chimney", polygon=[(0.6, 0.6), (0.62, 0.6), (0.62, 0.62), (0.6, 0.62)]
)
LEFT = ExclusionMask(polygon=[(0.0, 0.5), (0.3, 0.5), (0.3, 1.0), (0.0, 1.0)])
RIGHT = ExclusionMask(polygon=[(0.3, 0.5), (0.6, 0.5), (0.6, 1.0), (0.3, 1.0)])


def box(x_min: float, y_min: float, x_max: float, y_max: float, score: float = 0.5) -> Detection:
    return Detection(x_min, y_min, x_max, y_max, score, DetectionClass.SMOKE)


@pytest.mark.parametrize(
    ("detection", "masks", "kept"),
    [
        (box(0.1, 0.02, 0.2, 0.08), [BANNER], False),  # inside the banner
        (box(0.1, 0.04, 0.2, 0.14), [BANNER], False),  # 60% in the banner
        (box(0.1, 0.06, 0.2, 0.16), [BANNER], True),  # 40% in the banner
        # A large plume centred on a small masked chimney: the mask is 0.4% of its area.
        (box(0.51, 0.51, 0.71, 0.71), [CHIMNEY], True),
        (box(0.6, 0.6, 0.62, 0.62), [CHIMNEY], False),  # the chimney's own smoke
        # 25% in each of two touching masks: 50% masked once they are unioned.
        (box(0.25, 0.45, 0.35, 0.55), [LEFT, RIGHT], False),
        (box(0.25, 0.45, 0.35, 0.55), [LEFT], True),
        (box(0.1, 0.5, 0.2, 0.6), [], True),
    ],
)
def test_exclusion_masks_drop_boxes_mostly_inside(
    detection: Detection, masks: list[ExclusionMask], kept: bool
) -> None:
    result = filter_detections(
        [detection], masks=masks, max_box_width_fraction=0.4, score_floor=0.1
    )
    assert result == ((detection,) if kept else ())


@pytest.mark.parametrize(
    ("detection", "kept"),
    [
        (box(0.1, 0.5, 0.5, 0.6), True),  # exactly 40% wide
        (box(0.1, 0.5, 0.51, 0.6), False),  # wider than 40%: haze band, cloud bank
        (box(0.1, 0.5, 0.2, 0.6, score=0.15), True),  # at the floor
        (box(0.1, 0.5, 0.2, 0.6, score=0.149), False),
    ],
)
def test_width_and_score_limits(detection: Detection, kept: bool) -> None:
    result = filter_detections([detection], masks=[], max_box_width_fraction=0.4, score_floor=0.15)
    assert result == ((detection,) if kept else ())


def test_order_is_kept_and_nothing_is_invented() -> None:
    boxes = [box(0.7, 0.7, 0.8, 0.8), box(0.1, 0.02, 0.2, 0.08), box(0.2, 0.5, 0.3, 0.6)]
    result = filter_detections(boxes, masks=[BANNER], max_box_width_fraction=0.4, score_floor=0.1)
    assert result == (boxes[0], boxes[2])
    assert filter_detections([], masks=[BANNER], max_box_width_fraction=0.4, score_floor=0.1) == ()


def test_a_self_crossing_polygon_counts_the_area_drawn() -> None:
    bowtie = ExclusionMask(polygon=[(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)])
    inside_left_wing, in_the_gap = masked_fractions(
        [box(0.0, 0.4, 0.2, 0.6), box(0.4, 0.0, 0.6, 0.1)], [bowtie]
    )
    assert inside_left_wing == pytest.approx(1.0)
    assert in_the_gap < 0.5
