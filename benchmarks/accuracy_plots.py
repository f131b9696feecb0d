"""The plots of ``bench accuracy``: PR curves, confidence histogram, worst false positives/misses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.metrics import ClassMatches, ImageBoxes, pr_curve
from benchmarks.report import Tile, crop_grid, new_figure, save_figure

if TYPE_CHECKING:
    from benchmarks.accuracy import AccuracyRun

GRID_SIZE = 12  # crops per grid: enough to see a pattern, small enough to read


def _boxes(image: ImageBoxes, rows: np.ndarray) -> list[tuple[float, float, float, float]]:
    return [
        (float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in image.boxes[rows].tolist()
    ]


def plot_pr_curves(run: AccuracyRun, path: Path) -> None:
    figure = new_figure(5.0 * len(run.matches), 4.2)
    for index, (name, matches) in enumerate(
        zip(run.split.class_names, run.matches, strict=True), start=1
    ):
        axes = figure.add_subplot(1, len(run.matches), index)
        axes.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision")
        metrics = run.metrics["classes"][name]
        if matches.ground_truth_boxes == 0:
            axes.set_title(f"{name}: no boxes in the data")
            continue
        recall, precision, scores = pr_curve(matches)
        axes.plot(recall, precision, color="tab:blue", linewidth=1.2)
        at = scores >= run.threshold
        if at.any():
            last = int(np.flatnonzero(at)[-1])
            axes.plot(recall[last], precision[last], "o", color="tab:red")
            axes.annotate(f"score {run.threshold:g}", (recall[last], precision[last]), fontsize=8)
        axes.set_title(f"{name}: AP50 {metrics['ap50']:.3f} ({matches.ground_truth_boxes} boxes)")
        axes.grid(alpha=0.3)
    save_figure(figure, path)


def plot_confidence_histogram(run: AccuracyRun, path: Path) -> None:
    figure = new_figure(5.0 * len(run.matches), 3.8)
    bins = np.linspace(0.0, 1.0, 41).tolist()
    for index, (name, matches) in enumerate(
        zip(run.split.class_names, run.matches, strict=True), start=1
    ):
        axes = figure.add_subplot(1, len(run.matches), index)
        hit = matches.matched[0]
        axes.hist(matches.scores[hit], bins=bins, alpha=0.7, label="true positive (IoU 0.5)")
        axes.hist(matches.scores[~hit], bins=bins, alpha=0.7, label="false positive")
        axes.axvline(run.threshold, color="black", linestyle="--", linewidth=1)
        axes.set(xlabel="score", ylabel="detections", title=name)
        if len(matches.scores):
            axes.set_yscale("log")
        axes.legend(fontsize=8)
    save_figure(figure, path)


def worst_false_positives(run: AccuracyRun, limit: int = GRID_SIZE) -> list[Tile]:
    """Highest-scoring detections that matched nothing at IoU 0.5, over all classes."""
    candidates: list[tuple[float, int, int, ClassMatches]] = []
    for matches in run.matches:
        wrong = np.flatnonzero(~matches.matched[0])
        candidates += [
            (
                float(matches.scores[d]),
                int(matches.image_index[d]),
                int(matches.box_index[d]),
                matches,
            )
            for d in wrong[:limit]
        ]
    candidates.sort(key=lambda item: (-item[0], item[1], item[2]))
    tiles = []
    for score, image_index, box_index, matches in candidates[:limit]:
        image = run.split.images[image_index]
        predicted = run.predictions[image_index]
        box = _boxes(predicted, np.array([box_index]))[0]
        name = run.split.class_names[matches.class_id]
        tiles.append(
            Tile(
                image.path,
                box,
                f"{name} {score:.2f} {image.path.name[:28]}",
                truths=_boxes(image.truth, np.arange(len(image.truth.class_ids))),
                detections=[box],
            )
        )
    return tiles


def worst_misses(run: AccuracyRun, limit: int = GRID_SIZE) -> list[Tile]:
    """Ground-truth boxes no detection at the operating threshold found, largest first."""
    missed: list[tuple[float, int, int, float | None, str]] = []
    for matches in run.matches:
        for (image_index, box_index), score in matches.gt_match_score.items():
            if score is None or score < run.threshold:
                box = run.split.images[image_index].truth.boxes[box_index]
                area = float((box[2] - box[0]) * (box[3] - box[1]))
                name = run.split.class_names[matches.class_id]
                missed.append((area, image_index, box_index, score, name))
    missed.sort(key=lambda item: (-item[0], item[1], item[2]))
    tiles = []
    for _, image_index, box_index, score, name in missed[:limit]:
        image = run.split.images[image_index]
        predicted = run.predictions[image_index]
        shown = np.flatnonzero(predicted.scores >= run.threshold)
        matched = "unmatched" if score is None else f"matched at {score:.2f}"
        tiles.append(
            Tile(
                image.path,
                _boxes(image.truth, np.array([box_index]))[0],
                f"{name} {matched} {image.path.name[:24]}",
                truths=_boxes(image.truth, np.array([box_index])),
                detections=_boxes(predicted, shown),
            )
        )
    return tiles


def plot_accuracy(run: AccuracyRun, out: Path) -> None:
    plot_pr_curves(run, out / "pr_curve.png")
    plot_confidence_histogram(run, out / "confidence_histogram.png")
    crop_grid(
        worst_false_positives(run),
        out / "worst_false_positives.png",
        "Highest-scoring false positives (red: detection, green: ground truth)",
    )
    crop_grid(
        worst_misses(run),
        out / "worst_misses.png",
        f"Largest boxes missed at score {run.threshold:g} (green: missed box, red: detections)",
    )
