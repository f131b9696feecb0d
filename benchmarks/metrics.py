"""Detection accuracy the COCO way: greedy matching per image and class, 101-point interpolated AP.

Matching and interpolation follow ``pycocotools.cocoeval`` step for step (detections sorted by
score with a stable sort, at most 100 per image and class, each detection takes the unmatched
ground-truth box of highest IoU >= t, precision envelope sampled at recall 0, 0.01, ..., 1), so
the figures agree with pycocotools and ultralytics; a unit test checks it. Boxes are xyxy
normalised to the image: IoU does not change when both axes are scaled, so pixels are not needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

IOU_THRESHOLDS: Floats = np.linspace(0.5, 0.95, 10)
RECALL_POINTS: Floats = np.linspace(0.0, 1.0, 101)
MAX_DETECTIONS_PER_IMAGE = 100  # COCO's maxDets for the headline AP


@dataclass(frozen=True, slots=True)
class ImageBoxes:
    """The boxes of one image: xyxy normalised (K, 4), class ids (K,), scores (K,) for predictions."""

    boxes: Floats
    class_ids: Ints
    scores: Floats

    @staticmethod
    def build(
        boxes: Sequence[Sequence[float]], class_ids: Sequence[int], scores: Sequence[float] = ()
    ) -> ImageBoxes:
        array = np.asarray(boxes, np.float64).reshape(-1, 4)
        classes = np.asarray(class_ids, np.int64).reshape(-1)
        values = np.asarray(scores, np.float64).reshape(-1) if len(scores) else np.ones(len(array))
        if not len(array) == len(classes) == len(values):
            raise ValueError("boxes, class ids and scores must have the same length")
        return ImageBoxes(array, classes, values)


def iou_matrix(a: Floats, b: Floats) -> Floats:
    """IoU of every box of ``a`` (M, 4) with every box of ``b`` (N, 4), xyxy: (M, N)."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0.0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - intersection
    result: Floats = np.divide(
        intersection, union, out=np.zeros_like(intersection), where=union > 0
    )
    return result


@dataclass(frozen=True, slots=True)
class ClassMatches:
    """Every prediction of one class over the dataset, best score first, and what it matched.

    ``matched[t, d]``: detection d is a true positive at ``IOU_THRESHOLDS[t]``.
    ``image_index``/``box_index`` locate each detection in the predictions it came from.
    ``gt_match_score`` maps (image index, gt box index) to the score of the detection that took
    that ground-truth box at IoU 0.5, for the ground-truth boxes of this class.
    """

    class_id: int
    ground_truth_boxes: int
    scores: Floats
    image_index: Ints
    box_index: Ints
    matched: Bools
    gt_match_score: dict[tuple[int, int], float | None]


def _match_image(
    iou: Floats, order: Ints
) -> tuple[Bools, list[Ints]]:  # (T, D) matched, per threshold the det index per gt (-1: none)
    thresholds, detections, truths = len(IOU_THRESHOLDS), iou.shape[0], iou.shape[1]
    matched = np.zeros((thresholds, detections), np.bool_)
    taken_by: list[Ints] = []
    for t, threshold in enumerate(IOU_THRESHOLDS):
        gt_taken = np.full(truths, -1, np.int64)
        for d in order:
            best, best_iou = -1, min(float(threshold), 1 - 1e-10)
            for g in range(truths):
                # pycocotools: '<' keeps ties at the threshold and lets a later equal IoU win.
                if gt_taken[g] >= 0 or iou[d, g] < best_iou:
                    continue
                best, best_iou = g, float(iou[d, g])
            if best >= 0:
                gt_taken[best] = d
                matched[t, d] = True
        taken_by.append(gt_taken)
    return matched, taken_by


def match_class(
    ground_truth: Sequence[ImageBoxes],
    predictions: Sequence[ImageBoxes],
    class_id: int,
    max_detections: int = MAX_DETECTIONS_PER_IMAGE,
) -> ClassMatches:
    """Match the predictions of ``class_id`` to its ground truth, image by image."""
    if len(ground_truth) != len(predictions):
        raise ValueError("ground truth and predictions must list the same images")
    scores: list[Floats] = []
    image_index: list[Ints] = []
    box_index: list[Ints] = []
    matched: list[Bools] = []
    gt_match_score: dict[tuple[int, int], float | None] = {}
    total_truths = 0
    for i, (truth, predicted) in enumerate(zip(ground_truth, predictions, strict=True)):
        gt_rows = np.flatnonzero(truth.class_ids == class_id)
        pred_rows = np.flatnonzero(predicted.class_ids == class_id)
        pred_rows = pred_rows[np.argsort(-predicted.scores[pred_rows], kind="mergesort")]
        pred_rows = pred_rows[:max_detections]
        total_truths += len(gt_rows)
        iou = iou_matrix(predicted.boxes[pred_rows], truth.boxes[gt_rows])
        image_matched, taken_by = _match_image(iou, np.arange(len(pred_rows)))
        for g, d in enumerate(taken_by[0]):
            gt_match_score[(i, int(gt_rows[g]))] = (
                float(predicted.scores[pred_rows[d]]) if d >= 0 else None
            )
        scores.append(predicted.scores[pred_rows])
        image_index.append(np.full(len(pred_rows), i, np.int64))
        box_index.append(pred_rows.astype(np.int64))
        matched.append(image_matched)
    all_scores = np.concatenate(scores) if scores else np.zeros(0)
    order = np.argsort(-all_scores, kind="mergesort")
    return ClassMatches(
        class_id=class_id,
        ground_truth_boxes=total_truths,
        scores=all_scores[order],
        image_index=(np.concatenate(image_index) if image_index else np.zeros(0, np.int64))[order],
        box_index=(np.concatenate(box_index) if box_index else np.zeros(0, np.int64))[order],
        matched=(
            np.concatenate(matched, axis=1)
            if matched
            else np.zeros((len(IOU_THRESHOLDS), 0), np.bool_)
        )[:, order],
        gt_match_score=gt_match_score,
    )


def precision_recall(matched: Bools, ground_truth_boxes: int) -> tuple[Floats, Floats]:
    """Cumulative precision and recall over detections sorted by decreasing score."""
    true_positives = np.cumsum(matched, dtype=np.float64)
    false_positives = np.cumsum(~matched, dtype=np.float64)
    recall = true_positives / ground_truth_boxes
    precision = true_positives / (true_positives + false_positives + np.spacing(1))
    return precision, recall


def average_precision(matched: Bools, ground_truth_boxes: int) -> float:
    """COCO AP: the precision envelope read at 101 recall points, zero past the last recall."""
    if ground_truth_boxes == 0:
        raise ValueError("AP is undefined without ground-truth boxes")
    if matched.size == 0:
        return 0.0
    precision, recall = precision_recall(matched, ground_truth_boxes)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    at = np.searchsorted(recall, RECALL_POINTS, side="left")
    sampled = np.where(at < len(envelope), envelope[np.minimum(at, len(envelope) - 1)], 0.0)
    return float(sampled.mean())


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    """Figures of one class; all None when the data holds no box of the class."""

    boxes: int
    ap50: float | None
    ap50_95: float | None
    precision: float | None
    recall: float | None
    f1: float | None

    def as_dict(self) -> dict[str, int | float | None]:
        return {
            "boxes": self.boxes,
            "ap50": self.ap50,
            "ap50_95": self.ap50_95,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def class_metrics(matches: ClassMatches, threshold: float) -> ClassMetrics:
    """AP50, AP50-95, and P/R/F1 at IoU 0.5 of the detections scoring at least ``threshold``."""
    n = matches.ground_truth_boxes
    if n == 0:
        return ClassMetrics(0, None, None, None, None, None)
    per_threshold = [average_precision(row, n) for row in matches.matched]
    kept = matches.matched[0][matches.scores >= threshold]
    true_positives = int(kept.sum())
    precision = true_positives / len(kept) if len(kept) else 0.0
    recall = true_positives / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ClassMetrics(
        boxes=n,
        ap50=per_threshold[0],
        ap50_95=float(np.mean(per_threshold)),
        precision=precision,
        recall=recall,
        f1=f1,
    )


def pr_curve(matches: ClassMatches) -> tuple[Floats, Floats, Floats]:
    """(recall, precision, score) along the ranked detections at IoU 0.5, for plotting."""
    if matches.ground_truth_boxes == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    precision, recall = precision_recall(matches.matched[0], matches.ground_truth_boxes)
    return recall, precision, matches.scores
