"""AP and P/R/F1: hand-computed cases, and a cross-check against pycocotools on the same boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.accuracy import run_accuracy
from benchmarks.metrics import (
    ImageBoxes,
    average_precision,
    class_metrics,
    iou_matrix,
    match_class,
)

COCO_SIDE_PX = 1000.0  # pycocotools wants pixel boxes; IoU does not depend on the scale


def coco_average_precision(
    truths: list[ImageBoxes], predictions: list[ImageBoxes], class_id: int
) -> tuple[float, float]:
    """(AP50, AP50-95) of one class by pycocotools on the same boxes."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def xywh(box: np.ndarray) -> list[float]:
        x_min, y_min, x_max, y_max = (box * COCO_SIDE_PX).tolist()
        return [x_min, y_min, x_max - x_min, y_max - y_min]

    annotations = []
    for i, truth in enumerate(truths):
        for box, c in zip(truth.boxes, truth.class_ids, strict=True):
            x, y, w, h = xywh(box)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": int(c) + 1,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
    ground_truth = COCO()
    ground_truth.dataset = {
        "images": [{"id": i + 1, "width": 1000, "height": 1000} for i in range(len(truths))],
        "annotations": annotations,
        "categories": [{"id": c + 1, "name": str(c)} for c in range(2)],
    }
    ground_truth.createIndex()
    results = [
        {"image_id": i + 1, "category_id": int(c) + 1, "bbox": xywh(box), "score": float(s)}
        for i, found in enumerate(predictions)
        for box, c, s in zip(found.boxes, found.class_ids, found.scores, strict=True)
    ]
    evaluation = COCOeval(ground_truth, ground_truth.loadRes(results), "bbox")
    evaluation.params.catIds = [class_id + 1]
    evaluation.evaluate()
    evaluation.accumulate()
    precision = evaluation.eval["precision"][:, :, 0, 0, 2]  # IoU x recall, area all, 100 dets
    return float(precision[0].mean()), float(precision.mean())


def random_case(seed: int) -> tuple[list[ImageBoxes], list[ImageBoxes]]:
    """Ground truth and jittered, duplicated and spurious predictions over 40 images."""
    rng = np.random.default_rng(seed)
    truths, predictions = [], []
    for _ in range(40):
        count = int(rng.integers(0, 4))
        corner = rng.uniform(0.0, 0.7, (count, 2))
        size = rng.uniform(0.02, 0.3, (count, 2))
        boxes = np.concatenate([corner, corner + size], axis=1)
        classes = rng.integers(0, 2, count)
        truths.append(ImageBoxes.build(boxes.tolist(), classes.tolist()))
        kept = rng.random(count) < 0.8
        found, found_classes = boxes[kept], classes[kept]
        jitter = rng.normal(0.0, 0.25, found.shape) * np.tile(size[kept], 2)
        spurious = rng.uniform(0.0, 0.7, (int(rng.integers(0, 3)), 2))
        spurious = np.concatenate([spurious, spurious + 0.1], axis=1)
        all_boxes = np.concatenate([found + jitter, found[:1] + 0.01, spurious])
        all_boxes[:, 2:] = np.maximum(all_boxes[:, 2:], all_boxes[:, :2] + 1e-3)
        all_classes = np.concatenate(
            [found_classes, found_classes[:1], rng.integers(0, 2, len(spurious))]
        )
        scores = np.round(rng.uniform(0.01, 1.0, len(all_boxes)), 2)  # rounding makes ties
        predictions.append(
            ImageBoxes.build(all_boxes.tolist(), all_classes.tolist(), scores.tolist())
        )
    return truths, predictions


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("class_id", [0, 1])
def test_ap_matches_pycocotools_on_random_boxes(seed: int, class_id: int) -> None:
    truths, predictions = random_case(seed)
    matches = match_class(truths, predictions, class_id)
    ours = class_metrics(matches, threshold=0.5)
    ap50, ap50_95 = coco_average_precision(truths, predictions, class_id)
    assert 0.0 < ap50_95 < ap50 < 1.0  # a case that exercises partial matches
    assert ours.ap50 == pytest.approx(ap50, abs=1e-9)
    assert ours.ap50_95 == pytest.approx(ap50_95, abs=1e-9)


def test_ap_matches_pycocotools_on_the_edge_detector_output(
    tiny_model: Path, tiny_dataset: Path
) -> None:
    run = run_accuracy(tiny_model, tiny_dataset, "val")
    truths = [image.truth for image in run.split.images]
    ap50, ap50_95 = coco_average_precision(truths, list(run.predictions), 0)
    smoke = run.metrics["classes"]["smoke"]
    assert 0.0 < ap50 < 1.0
    assert smoke["ap50"] == pytest.approx(ap50, abs=1e-9)
    assert smoke["ap50_95"] == pytest.approx(ap50_95, abs=1e-9)


def test_iou_of_known_boxes() -> None:
    a = np.array([[0.0, 0.0, 0.2, 0.2]])
    b = np.array([[0.1, 0.0, 0.3, 0.2], [0.5, 0.5, 0.6, 0.6], [0.0, 0.0, 0.2, 0.2]])
    np.testing.assert_allclose(iou_matrix(a, b), [[1 / 3, 0.0, 1.0]])


@pytest.mark.parametrize(
    ("matched", "boxes", "expected"),
    [
        ([True, True], 2, 1.0),  # perfect ranking
        ([False, True], 1, 0.5),  # a false positive ranked first halves precision everywhere
        ([True], 2, 51 / 101),  # recall stops at 0.5: recall points 0..0.5 have precision 1
        ([True, False, True], 2, (51 + 50 * 2 / 3) / 101),
        ([], 3, 0.0),  # no detections at all
    ],
)
def test_average_precision_by_hand(matched: list[bool], boxes: int, expected: float) -> None:
    assert average_precision(np.array(matched, np.bool_), boxes) == pytest.approx(expected)


def test_precision_recall_f1_at_threshold_and_empty_class() -> None:
    truth = [ImageBoxes.build([[0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.7, 0.7]], [0, 0])]
    found = [
        ImageBoxes.build(
            [[0.1, 0.1, 0.3, 0.3], [0.8, 0.8, 0.9, 0.9], [0.5, 0.5, 0.7, 0.7]],
            [0, 0, 0],
            [0.9, 0.6, 0.2],
        )
    ]
    smoke = class_metrics(match_class(truth, found, 0), threshold=0.5)
    assert (smoke.boxes, smoke.precision, smoke.recall) == (2, 0.5, 0.5)
    assert smoke.f1 == pytest.approx(0.5)
    fire = class_metrics(match_class(truth, found, 1), threshold=0.5)
    assert fire.as_dict() == {
        "boxes": 0,
        "ap50": None,
        "ap50_95": None,
        "precision": None,
        "recall": None,
        "f1": None,
    }


def test_a_ground_truth_box_is_matched_once() -> None:
    truth = [ImageBoxes.build([[0.1, 0.1, 0.3, 0.3]], [0])]
    duplicates = [ImageBoxes.build([[0.1, 0.1, 0.3, 0.3]] * 2, [0, 0], [0.9, 0.8])]
    matches = match_class(truth, duplicates, 0)
    assert matches.matched[0].tolist() == [True, False]
    assert matches.gt_match_score == {(0, 0): pytest.approx(0.9)}
