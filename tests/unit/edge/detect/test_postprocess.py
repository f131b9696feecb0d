from __future__ import annotations

import numpy as np
import pytest

from edge.detect.postprocess import MAX_DETECTIONS, decode, nms_detections
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
