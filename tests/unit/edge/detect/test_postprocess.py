from __future__ import annotations

import numpy as np
import pytest

from edge.detect.postprocess import (
    FUSION_IOU,
    MAX_DETECTIONS,
    Candidates,
    decode,
    empty_candidates,
    fuse_views,
    mirrored,
    nms_detections,
)
from edge.detect.preprocess import fit
from edge.messages import Detection, DetectionClass

SMOKE, FIRE = DetectionClass.SMOKE, DetectionClass.FIRE


def yolo_output(rows: list[tuple[float, float, float, float, float, float]]) -> np.ndarray:
    """(4 + 2, N) from rows of (cx, cy, w, h, smoke, fire) in input pixels."""
    return np.array(rows, np.float32).T


def test_decode_floors_suppresses_per_class_and_normalises() -> None:
    box = fit(640, 480, 320)  # scale 0.5, pad_y 40
    output = yolo_output(
        [
            (60, 100, 40, 40, 0.9, 0.0),  # smoke at frame px (80,80)-(160,160)
            (62, 101, 40, 40, 0.8, 0.0),  # duplicate of it: suppressed
            (60, 100, 40, 40, 0.1, 0.7),  # same place, fire: kept (per-class NMS)
            (200, 200, 20, 20, 0.05, 0.0),  # under the floor
            (160, 20, 40, 20, 0.95, 0.0),  # entirely in the top padding: dropped
            (310, 150, 40, 40, 0.6, 0.0),  # crosses the right edge: clipped
        ]
    )
    found = decode(output, box, score_floor=0.2, iou_threshold=0.45)
    assert [(d.detection_class, round(d.score, 2)) for d in found] == [
        (SMOKE, 0.9),
        (FIRE, 0.7),
        (SMOKE, 0.6),
    ]
    smoke = found[0]
    assert (smoke.x_min, smoke.y_min, smoke.x_max, smoke.y_max) == pytest.approx(
        (80 / 640, 80 / 480, 160 / 640, 160 / 480)
    )
    clipped = found[2]
    assert clipped.x_max == 1.0
    assert clipped.x_min == pytest.approx(580 / 640)


def test_a_flood_of_candidates_is_capped_and_keeps_the_best() -> None:
    rng = np.random.default_rng(0)
    count = 8400
    output = np.stack(
        [
            rng.uniform(0, 320, count),
            rng.uniform(40, 280, count),
            rng.uniform(4, 40, count),
            rng.uniform(4, 40, count),
            rng.uniform(0.2, 0.9, count),
            np.zeros(count),
        ]
    ).astype(np.float32)
    output[:, 0] = (160, 160, 20, 20, 0.99, 0.0)
    found = decode(output, fit(640, 480, 320), score_floor=0.1, iou_threshold=0.45)
    assert len(found) == MAX_DETECTIONS
    assert found[0].score == pytest.approx(0.99)
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)


def test_decode_of_nothing_is_empty() -> None:
    output = yolo_output([(10, 10, 5, 5, 0.01, 0.02)] * 3)
    assert decode(output, fit(640, 480, 320), score_floor=0.1, iou_threshold=0.45) == ()


def test_decode_rejects_a_wrong_shape() -> None:
    with pytest.raises(ValueError, match="4 \\+ classes"):
        decode(np.zeros((4, 10), np.float32), fit(64, 64, 64), score_floor=0.1, iou_threshold=0.5)


def test_nms_on_normalised_detections_merges_duplicates_only() -> None:
    best = Detection(0.10, 0.10, 0.20, 0.20, 0.9, SMOKE)
    duplicate = Detection(0.11, 0.10, 0.21, 0.20, 0.8, SMOKE)
    elsewhere = Detection(0.50, 0.50, 0.60, 0.60, 0.5, SMOKE)
    fire_same_place = Detection(0.10, 0.10, 0.20, 0.20, 0.4, FIRE)
    kept = nms_detections([duplicate, elsewhere, best, fire_same_place], iou_threshold=0.45)
    assert kept == (best, elsewhere, fire_same_place)


def candidates(rows: list[tuple[float, float, float, float, float, int]]) -> Candidates:
    """From rows of (x0, y0, x1, y1, score, class id) in frame pixels."""
    array = np.array(rows, np.float32).reshape(-1, 6)
    return Candidates(array[:, :4], array[:, 4], array[:, 5].astype(np.int32))


def test_a_mirrors_boxes_are_put_back_where_they_are_in_the_frame() -> None:
    found = mirrored(candidates([(0, 10, 40, 50, 0.9, 0)]), width_px=640)
    assert found.boxes_px.tolist() == [[600, 10, 640, 50]]
    assert mirrored(found, width_px=640).boxes_px.tolist() == [[0, 10, 40, 50]]


def test_views_are_averaged_box_by_box() -> None:
    frame_view = candidates(
        [
            (100, 100, 200, 200, 0.8, 0),  # seen in both views...
            (400, 50, 450, 90, 0.6, 0),  # ...only in this one
            (100, 100, 200, 200, 0.5, 1),  # same place, another class: not fused with smoke
        ]
    )
    mirror_view = candidates([(110, 100, 210, 200, 0.4, 0), (300, 300, 340, 340, 0.2, 1)])
    fused = fuse_views([frame_view, mirror_view])
    rows = [
        (*(round(value, 3) for value in box), round(float(score), 4), int(class_id))
        for box, score, class_id in zip(
            fused.boxes_px.tolist(), fused.scores, fused.class_ids, strict=True
        )
    ]
    assert rows == [
        # the score-weighted mean of the two boxes (0.8 and 0.4) and the mean of their scores
        (103.333, 100, 203.333, 200, 0.6, 0),
        (400, 50, 450, 90, 0.3, 0),  # one view of two: half its score
        (100, 100, 200, 200, 0.25, 1),
        (300, 300, 340, 340, 0.1, 1),
    ]


def test_a_box_takes_at_most_the_best_overlapping_box_of_each_other_view() -> None:
    frame_view = candidates([(0, 0, 100, 100, 0.9, 0)])
    # IoU 0.9 and 0.5 with it: the first pairs; the second (under FUSION_IOU) stays its own box.
    mirror_view = candidates([(0, 0, 100, 90, 0.3, 0), (0, 0, 100, 50, 0.7, 0)])
    fused = fuse_views([frame_view, mirror_view])
    assert [round(float(score), 4) for score in fused.scores] == [0.6, 0.35]
    assert FUSION_IOU > 0.5


def test_fusing_nothing_gives_nothing() -> None:
    assert len(fuse_views([empty_candidates(), empty_candidates()])) == 0
