"""Decode a YOLO output (1, 4 + nc, N) into boxes normalised to the full frame, with per-class NMS.

All candidate work is vectorised (numpy masks, one ``cv2.dnn.NMSBoxesBatched`` call): a 640 model
emits N = 8400 candidates per image and a Python loop over them would cost more than the
inference. Only the few boxes that survive NMS become ``Detection`` objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from edge.detect.preprocess import Letterbox
from edge.messages import CLASS_BY_INDEX, Detection

# ultralytics keeps 300 per image; an alert carries at most 20 boxes and smoke scenes have few.
MAX_DETECTIONS = 100
# OpenCV's NMS is quadratic: 8400 candidates (an untrained or confused model at a low floor) cost
# 91 ms here; capped to the 300 best it is 0.6 ms, whatever the model emits. 300 leaves room for
# the 100 survivors; ultralytics caps at 30000 but runs a much faster NMS in torchvision.
MAX_NMS_CANDIDATES = 300

# Boxes of two views are one object from this overlap on: weighted boxes fusion's IoU, above
# the NMS IoU (0.45), so that two boxes of one view, which the NMS left apart, never pair.
FUSION_IOU = 0.55

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Boxes of one image as arrays: xyxy in source pixels (K, 4), scores (K,), class ids (K,)."""

    boxes_px: Floats
    scores: Floats
    class_ids: Ints

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def shifted(self, dx_px: float, dy_px: float) -> Candidates:
        """The same boxes moved by (dx, dy): a tile's boxes in the coordinates of its frame."""
        offset = np.array([dx_px, dy_px, dx_px, dy_px], np.float32)
        return Candidates(self.boxes_px + offset, self.scores, self.class_ids)

    @staticmethod
    def concat(parts: Iterable[Candidates]) -> Candidates:
        items = list(parts)
        if not items:
            return empty_candidates()
        return Candidates(
            np.concatenate([part.boxes_px for part in items]),
            np.concatenate([part.scores for part in items]),
            np.concatenate([part.class_ids for part in items]),
        )


def empty_candidates() -> Candidates:
    return Candidates(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32))


def decode_candidates(
    output: npt.NDArray[np.floating], letterbox: Letterbox, *, score_floor: float
) -> Candidates:
    """Boxes of one image's output (4 + nc, N) above ``score_floor``, in source pixels.

    Rows 0-3 are cx, cy, w, h in input pixels, then one score row per class; each candidate keeps
    its best class (as ultralytics' non-multi-label NMS does).
    """
    if output.ndim != 2 or output.shape[0] < 5:
        raise ValueError(f"expected a (4 + classes, N) output, got shape {output.shape}")
    class_scores = output[4:]
    class_ids = np.argmax(class_scores, axis=0)
    scores = np.take_along_axis(class_scores, class_ids[None], axis=0)[0]
    keep = scores >= score_floor
    if not keep.any():
        return empty_candidates()
    if np.count_nonzero(keep) > MAX_NMS_CANDIDATES:
        cutoff = np.partition(scores[keep], -MAX_NMS_CANDIDATES)[-MAX_NMS_CANDIDATES]
        keep &= scores >= cutoff
    cx, cy, w, h = output[:4, keep]
    half_w, half_h = w / 2, h / 2
    boxes_input = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    boxes = letterbox.to_source_px(boxes_input.astype(np.float32, copy=False))
    # A box that lay in the padding collapses to zero width or height once clipped.
    visible = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return Candidates(
        boxes[visible],
        scores[keep][visible].astype(np.float32, copy=False),
        class_ids[keep][visible].astype(np.int32, copy=False),
    )


def nms_order(candidates: Candidates, iou_threshold: float, max_detections: int) -> Ints:
    """Indices of the per-class NMS survivors, best score first, at most ``max_detections``."""
    if len(candidates) == 0:
        return np.zeros(0, np.int32)
    xywh = candidates.boxes_px.copy()
    xywh[:, 2:] -= xywh[:, :2]
    # cv2's stubs ask for Sequences; the binding takes arrays without a copy into Python lists.
    arrays: tuple[Any, Any, Any] = (xywh, candidates.scores, candidates.class_ids)
    # No top_k here: OpenCV applies it before suppression, which can drop a survivor.
    kept = cv2.dnn.NMSBoxesBatched(*arrays, 0.0, iou_threshold)
    index = np.asarray(kept, np.int32).reshape(-1)
    index = index[np.argsort(-candidates.scores[index], kind="stable")]
    return index[:max_detections]


def nms(
    candidates: Candidates, iou_threshold: float, max_detections: int = MAX_DETECTIONS
) -> Candidates:
    """Per-class non-maximum suppression; survivors in decreasing score order."""
    index = nms_order(candidates, iou_threshold, max_detections)
    return Candidates(
        candidates.boxes_px[index], candidates.scores[index], candidates.class_ids[index]
    )


def mirrored(candidates: Candidates, width_px: float) -> Candidates:
    """Boxes found on the left-right mirror of a frame ``width_px`` wide, in the frame's own
    coordinates."""
    boxes = candidates.boxes_px.copy()
    boxes[:, 0] = width_px - candidates.boxes_px[:, 2]
    boxes[:, 2] = width_px - candidates.boxes_px[:, 0]
    return Candidates(boxes, candidates.scores, candidates.class_ids)


def _iou_with(box: Floats, boxes: Floats) -> Floats:
    """IoU of one xyxy box with each of ``boxes`` (K, 4)."""
    top_left = np.maximum(box[:2], boxes[:, :2])
    bottom_right = np.minimum(box[2:], boxes[:, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0.0, None), axis=1)
    union = np.prod(box[2:] - box[:2]) + np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    union -= intersection
    iou: Floats = np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
    return iou


def fuse_views(views: Sequence[Candidates], max_detections: int = MAX_DETECTIONS) -> Candidates:
    """The boxes one detector found on several views of a frame, averaged as an ensemble.

    Each view's boxes are NMS survivors, in frame coordinates. From the best score down, a box
    takes from every other view the unclaimed box of its class that overlaps it most (IoU >=
    ``FUSION_IOU``); the fused box is their score-weighted mean and its score their sum over the
    number of views, so a box that only one view sees keeps a share of its score (weighted
    boxes fusion, Solovyev et al. 2021, with one box per view).
    """
    pooled = Candidates.concat(views)
    view_of = np.concatenate([np.full(len(view), index) for index, view in enumerate(views)])
    claimed = np.zeros(len(pooled), np.bool_)
    fused_boxes, fused_scores, fused_classes = [], [], []
    for seed in np.argsort(-pooled.scores, kind="stable"):
        if claimed[seed]:
            continue
        claimed[seed] = True
        members = [seed]
        overlap = _iou_with(pooled.boxes_px[seed], pooled.boxes_px)
        eligible = (
            ~claimed
            & (view_of != view_of[seed])
            & (pooled.class_ids == pooled.class_ids[seed])
            & (overlap >= FUSION_IOU)
        )
        for view in np.unique(view_of[eligible]):
            in_view = np.flatnonzero(eligible & (view_of == view))
            best = in_view[np.argmax(overlap[in_view])]
            claimed[best] = True
            members.append(best)
        weights = pooled.scores[members]
        fused_boxes.append(weights @ pooled.boxes_px[members] / weights.sum())
        fused_scores.append(weights.sum() / len(views))
        fused_classes.append(pooled.class_ids[seed])
    if not fused_scores:
        return empty_candidates()
    order = np.argsort(-np.asarray(fused_scores), kind="stable")[:max_detections]
    return Candidates(
        np.asarray(fused_boxes, np.float32)[order],
        np.asarray(fused_scores, np.float32)[order],
        np.asarray(fused_classes, np.int32)[order],
    )


def to_detections(candidates: Candidates, width_px: int, height_px: int) -> tuple[Detection, ...]:
    """Normalise source-pixel boxes by the frame size (boxes are already clipped to it)."""
    scale = np.array([width_px, height_px, width_px, height_px], np.float32)
    boxes = np.clip(candidates.boxes_px / scale, 0.0, 1.0).tolist()
    return tuple(
        Detection(x_min, y_min, x_max, y_max, score, CLASS_BY_INDEX[class_id])
        for (x_min, y_min, x_max, y_max), score, class_id in zip(
            boxes, candidates.scores.tolist(), candidates.class_ids.tolist(), strict=True
        )
        if x_min < x_max and y_min < y_max
    )


def decode(
    output: npt.NDArray[np.floating],
    letterbox: Letterbox,
    *,
    score_floor: float,
    iou_threshold: float,
    max_detections: int = MAX_DETECTIONS,
) -> tuple[Detection, ...]:
    """One image's output (4 + nc, N) to its detections, normalised to the source image."""
    candidates = decode_candidates(output, letterbox, score_floor=score_floor)
    kept = nms(candidates, iou_threshold, max_detections)
    return to_detections(kept, letterbox.source_width_px, letterbox.source_height_px)


def nms_detections(
    detections: Sequence[Detection], iou_threshold: float, max_detections: int = MAX_DETECTIONS
) -> tuple[Detection, ...]:
    """Per-class NMS over normalised detections (merging tiles); survivors keep their values."""
    if not detections:
        return ()
    class_index = {name: index for index, name in enumerate(CLASS_BY_INDEX)}
    candidates = Candidates(
        np.array([[d.x_min, d.y_min, d.x_max, d.y_max] for d in detections], np.float32),
        np.array([d.score for d in detections], np.float32),
        np.array([class_index[d.detection_class] for d in detections], np.int32),
    )
    return tuple(detections[i] for i in nms_order(candidates, iou_threshold, max_detections))
