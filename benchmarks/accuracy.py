"""``vigifeu bench accuracy``: per-frame AP, P/R/F1 and negatives of a model on a YOLO split.

The model runs through the edge's ``OnnxDetector`` with a score floor of 0.001 (ultralytics' val
floor: AP needs the low-score tail of the ranking), on the frame and its mirror as the edge runs
it by default (``mirror``; off: the frame alone); P/R/F1 and the negatives are then read at the
operating threshold (registry entry, or ``threshold``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.dataset import DatasetSplit, load_split
from benchmarks.frames import Image, make_frame, read_image, with_progress
from benchmarks.metrics import ClassMatches, ImageBoxes, class_metrics, match_class
from benchmarks.model import DEFAULT_REGISTRY, BenchModel, load_model
from benchmarks.report import markdown_table, write_json
from edge.config import Detector as DetectorConfig
from edge.messages import FrameDetections

logger = logging.getLogger(__name__)

AP_SCORE_FLOOR = 0.001
DEFAULT_THREADS = 2
EDGE_MIRRORS: bool = DetectorConfig.model_fields["mirror"].default


@dataclass(frozen=True, slots=True)
class AccuracyRun:
    split: DatasetSplit
    model: BenchModel
    threshold: float
    predictions: tuple[ImageBoxes, ...]
    matches: tuple[ClassMatches, ...]  # indexed like split.class_names
    metrics: dict[str, Any]


def to_image_boxes(found: FrameDetections, class_names: tuple[str, ...]) -> ImageBoxes:
    """Detections as arrays, classes mapped by name onto the dataset's class ids."""
    index = {name: i for i, name in enumerate(class_names)}
    kept = [d for d in found.detections if d.detection_class.value in index]
    return ImageBoxes.build(
        [(d.x_min, d.y_min, d.x_max, d.y_max) for d in kept],
        [index[d.detection_class.value] for d in kept],
        [d.score for d in kept],
    )


def predict_split(
    split: DatasetSplit,
    model: BenchModel,
    *,
    threads: int = DEFAULT_THREADS,
    transform: Callable[[Image, int], Image] | None = None,
    mirror: bool = EDGE_MIRRORS,
) -> tuple[ImageBoxes, ...]:
    """The edge detector's boxes on each image, after ``transform(image, index)`` if given."""
    from edge.detect.onnx_detector import OnnxDetector

    detector = OnnxDetector(
        model.path,
        model_info=model.info,
        threads=threads,
        score_floor=AP_SCORE_FLOOR,
        iou_threshold=model.iou_threshold,
        mirror=mirror,
    )
    label = f"accuracy {split.data_yaml.parent.name}/{split.split}"
    predictions = []
    for sequence, image in with_progress(enumerate(split.images), len(split.images), label):
        pixels = read_image(image.path)
        if transform is not None:
            pixels = transform(pixels, sequence)
        frame = make_frame(pixels, sequence)
        predictions.append(to_image_boxes(detector.detect([frame])[0], split.class_names))
    return tuple(predictions)


def measure(
    split: DatasetSplit,
    predictions: tuple[ImageBoxes, ...],
    model: BenchModel,
    threshold: float,
    *,
    mirror: bool,
) -> tuple[tuple[ClassMatches, ...], dict[str, Any]]:
    """Matches per class and the ``metrics.json`` document."""
    truths = [image.truth for image in split.images]
    matches = tuple(
        match_class(truths, list(predictions), class_id)
        for class_id in range(len(split.class_names))
    )
    negatives = [i for i, truth in enumerate(truths) if len(truth.class_ids) == 0]
    flagged = sum(1 for i in negatives if (predictions[i].scores >= threshold).any())
    metrics = {
        "images": len(split.images),
        "classes": {
            name: class_metrics(found, threshold).as_dict()
            for name, found in zip(split.class_names, matches, strict=True)
        },
        "threshold": threshold,
        "views": 2 if mirror else 1,  # the frame, and its mirror
        "negatives": {"images": len(negatives), "with_detection": flagged},
        "model": {"name": model.info.name, "sha256": model.info.sha256},
    }
    return matches, metrics


def run_accuracy(
    model: str | Path,
    data_yaml: Path,
    split: str,
    *,
    registry: Path = DEFAULT_REGISTRY,
    threshold: float | None = None,
    limit: int | None = None,
    threads: int = DEFAULT_THREADS,
    transform: Callable[[Image, int], Image] | None = None,
    mirror: bool = EDGE_MIRRORS,
) -> AccuracyRun:
    loaded = load_model(model, registry)
    data = load_split(data_yaml, split, limit)
    operating = loaded.score_threshold if threshold is None else threshold
    predictions = predict_split(data, loaded, threads=threads, transform=transform, mirror=mirror)
    matches, metrics = measure(data, predictions, loaded, operating, mirror=mirror)
    return AccuracyRun(data, loaded, operating, predictions, matches, metrics)


def evaluate(
    model: str | Path,
    data_yaml: Path,
    split: str,
    *,
    registry: Path = DEFAULT_REGISTRY,
    threshold: float | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The ``metrics.json`` document of ``model`` (registry name or .onnx path) on ``split``."""
    return run_accuracy(
        model, data_yaml, split, registry=registry, threshold=threshold, limit=limit
    ).metrics


def report_markdown(run: AccuracyRun, command: str) -> str:
    metrics = run.metrics
    rows = [
        [name, c["boxes"], c["ap50"], c["ap50_95"], c["precision"], c["recall"], c["f1"]]
        for name, c in metrics["classes"].items()
    ]
    negatives = metrics["negatives"]
    return "\n".join(
        [
            f"# Accuracy: {run.model.info.name} on {run.split.data_yaml} ({run.split.split})",
            "",
            f"Command: `{command}`",
            "",
            f"Model `{run.model.path}` ({run.model.info.version}, sha256 "
            f"`{run.model.info.sha256[:12]}…`), {metrics['images']} images, operating threshold "
            f"{run.threshold:g} (P/R/F1 at IoU 0.5), NMS IoU {run.model.iou_threshold:g}, "
            f"{_VIEWS[metrics['views']]}.",
            "",
            markdown_table(
                ["class", "boxes", "AP50", "AP50-95", "precision", "recall", "F1"], rows
            ),
            "",
            f"Negative images (no box): {negatives['images']}, with a detection at the "
            f"operating threshold: {negatives['with_detection']}.",
            "",
            "AP: COCO 101-point interpolation, IoU 0.50 and mean over 0.50:0.95, at most 100 "
            "detections per image and class, detections from the edge detector at score >= "
            f"{AP_SCORE_FLOOR}.",
            "",
            "![PR curves](pr_curve.png)",
            "![Confidence histogram](confidence_histogram.png)",
            "![Worst false positives](worst_false_positives.png)",
            "![Worst misses](worst_misses.png)",
            "",
        ]
    )


_VIEWS = {1: "the frame alone", 2: "the frame and its mirror, averaged (as the edge runs)"}


def write_outputs(run: AccuracyRun, out: Path, command: str) -> None:
    from benchmarks.accuracy_plots import plot_accuracy

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", run.metrics)
    plot_accuracy(run, out)
    (out / "report.md").write_text(report_markdown(run, command), encoding="utf-8")
    logger.info("accuracy report written to %s", out)
