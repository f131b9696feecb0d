"""``vigifeu bench input-size``: accuracy per millisecond of one checkpoint at several input sizes.

The checkpoint is exported to a static FP32 ONNX file per size (the training export), and every
setting runs through the edge's ``OnnxDetector`` exactly as ``bench accuracy`` does (score floor
0.001, AP from ``benchmarks.metrics``). Settings are interleaved frame by frame, the starting one
rotating, so a load spike on a shared machine lands on every setting alike; the milliseconds are
only comparable within one run. The optional 2x2 tiling is the edge's own ``tiles=2`` mode at the
smallest size: the full frame plus four overlapping tiles, merged by NMS.

The choice (``benchmarks.input_size_metrics``): the cheapest setting (p50 inference ms) whose
smoke AP50 is not shown, by a paired bootstrap over the val images, to trail the best by more
than one point.
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.accuracy import AP_SCORE_FLOOR, DEFAULT_THREADS, to_image_boxes
from benchmarks.bootstrap import resample_counts
from benchmarks.dataset import DatasetError, DatasetSplit, load_split
from benchmarks.frames import ImageReadError, make_frame, read_image, with_progress
from benchmarks.input_size_metrics import (
    SMALL_BOX_MAX_AREA,
    TOLERANCE_AP50,
    Measured,
    Setting,
    decide,
    setting_metrics,
)
from benchmarks.metrics import ImageBoxes
from benchmarks.model import (
    DEFAULT_REGISTRY,
    UNREGISTERED_IOU_THRESHOLD,
    UNREGISTERED_SCORE_THRESHOLD,
    BenchModel,
    load_model,
)
from benchmarks.report import delegated_command_line
from edge.detect import Detector
from edge.detect.preprocess import MAX_STRIDE_PX
from edge.detect.registry import RegistryError, file_sha256, load_registry

logger = logging.getLogger(__name__)

DEFAULT_SIZES_PX = (640, 800, 960)


class InputSizeError(ValueError):
    """Options that cannot make a study (sizes that the model stride does not divide)."""


def settings_of(sizes_px: Sequence[int], tiles: bool) -> tuple[Setting, ...]:
    """One setting per distinct size, smallest first, plus 2x2 tiles at the smallest size."""
    if not sizes_px or any(size <= 0 or size % MAX_STRIDE_PX for size in sizes_px):
        raise InputSizeError(
            f"sizes must be multiples of {MAX_STRIDE_PX} (the model stride), got {sizes_px}"
        )
    ordered = sorted(set(sizes_px))
    tiled = (Setting(ordered[0], 2),) if tiles else ()
    return tuple(Setting(size) for size in ordered) + tiled


def operating_point(checkpoint: Path, registry: Path | None) -> tuple[float, float, str | None]:
    """(score, NMS IoU, entry name) of the registered model exported from ``checkpoint``.

    The entry is the one whose ``parent`` is the checkpoint's file name (the shipped FP32 model);
    without one, a bare ONNX file's defaults."""
    if registry is not None and registry.is_file():
        for entry in load_registry(registry).models:
            if entry.parent == checkpoint.name:
                return entry.thresholds.score, entry.thresholds.iou, entry.name
    return UNREGISTERED_SCORE_THRESHOLD, UNREGISTERED_IOU_THRESHOLD, None


def export_sizes(checkpoint: Path, sizes_px: Sequence[int], work_dir: Path) -> dict[int, Path]:
    """A static batch-1 FP32 ONNX file per size, exported by the training export."""
    from vigifeu.training.export import export_fp32

    exported = {}
    for size in sizes_px:
        logger.info("exporting %s at %d px", checkpoint, size)
        _, onnx_path, _ = export_fp32(checkpoint, size, work_dir, f"input-{size}")
        exported[size] = onnx_path
    return exported


def open_detectors(
    settings: Sequence[Setting],
    models: Mapping[int, BenchModel],
    threads: int,
) -> dict[Setting, Detector]:
    from edge.detect.onnx_detector import OnnxDetector

    return {
        setting: OnnxDetector(
            models[setting.size_px].path,
            model_info=models[setting.size_px].info,
            threads=threads,
            score_floor=AP_SCORE_FLOOR,
            iou_threshold=models[setting.size_px].iou_threshold,
            tiles=setting.tiles,
        )
        for setting in settings
    }


def run_interleaved(
    split: DatasetSplit, detectors: Mapping[Setting, Detector]
) -> tuple[dict[Setting, Measured], dict[str, int]]:
    """Each frame through every detector, the first one rotating from frame to frame; also
    how many frames of each width x height the split holds."""
    order = list(detectors)
    frame_sizes: Counter[str] = Counter()
    boxes: dict[Setting, list[ImageBoxes]] = {s: [] for s in order}
    inference: dict[Setting, list[float]] = {s: [] for s in order}
    total: dict[Setting, list[float]] = {s: [] for s in order}
    label = f"input-size {split.data_yaml.parent.name}/{split.split}"
    for sequence, image in with_progress(enumerate(split.images), len(split.images), label):
        frame = make_frame(read_image(image.path), sequence)
        frame_sizes[f"{frame.width_px}x{frame.height_px}"] += 1
        shift = sequence % len(order)
        for setting in order[shift:] + order[:shift]:
            found = detectors[setting].detect([frame])[0]
            boxes[setting].append(to_image_boxes(found, split.class_names))
            if found.timings is not None:
                timings = found.timings
                inference[setting].append(timings.inference_ms)
                total[setting].append(
                    timings.preprocess_ms + timings.inference_ms + timings.postprocess_ms
                )
    measured = {s: Measured(tuple(boxes[s]), tuple(inference[s]), tuple(total[s])) for s in order}
    return measured, dict(sorted(frame_sizes.items()))


def run_input_size(
    checkpoint: Path,
    data_yaml: Path,
    split_name: str,
    *,
    sizes_px: Sequence[int] = DEFAULT_SIZES_PX,
    tiles: bool = False,
    threads: int = DEFAULT_THREADS,
    out: Path,
    registry: Path | None = DEFAULT_REGISTRY,
    threshold: float | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Export, run every setting interleaved, and return the ``metrics.json`` document."""
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: no such checkpoint")
    settings = settings_of(sizes_px, tiles)
    split = load_split(data_yaml, split_name, limit)
    score, iou, entry = operating_point(checkpoint, registry)
    operating = score if threshold is None else threshold
    sizes = sorted({s.size_px for s in settings})
    exported = export_sizes(checkpoint, sizes, out / "onnx")
    models = {
        size: replace(load_model(path), score_threshold=operating, iou_threshold=iou)
        for size, path in exported.items()
    }
    measured, frame_sizes = run_interleaved(split, open_detectors(settings, models, threads))
    counts = resample_counts(len(split.images))
    rows, candidates = zip(
        *(
            setting_metrics(s, models[s.size_px], split, measured[s], operating, counts)
            for s in settings
        ),
        strict=True,
    )
    decision = decide(candidates)
    for row in rows:
        row["smoke_ap50_gap_to_best"] = decision.gap_to_best.get(row["label"])
    return {
        "checkpoint": str(checkpoint),
        "checkpoint_sha256": file_sha256(checkpoint),
        "data": str(data_yaml),
        "split": split_name,
        "images": len(split.images),
        "frame_sizes": frame_sizes,
        "threads": threads,
        "threshold": operating,
        "iou": iou,
        "operating_point_from": entry,
        "small_box_max_area": SMALL_BOX_MAX_AREA,
        "rule": {
            "metric": "smoke ap50",
            "cost": "inference_ms_p50",
            "tolerance": TOLERANCE_AP50,
            "bootstrap_rounds": len(counts),
            "text": "the cheapest setting whose smoke AP50 trails the best by at most the "
            "tolerance, at the 2.5th percentile of a paired bootstrap over images",
        },
        "settings": list(rows),
        "best": decision.best,
        "choice": decision.choice,
    }


INPUT_ERRORS = (
    DatasetError,
    ImageReadError,
    RegistryError,
    InputSizeError,
    FileNotFoundError,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="ultralytics .pt")
    parser.add_argument("--data", type=Path, required=True, help="YOLO data.yaml")
    parser.add_argument("--split", choices=["train", "val", "test"], default="val")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES_PX),
        help="square input sides in px, multiples of 32",
    )
    parser.add_argument(
        "--tiles",
        choices=["2x2"],
        help="also run 2x2 overlapping tiles + the whole frame at the smallest size",
    )
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--registry",
        type=Path,
        default=DEFAULT_REGISTRY,
        help="takes the operating score and NMS IoU of the entry whose parent is the checkpoint",
    )
    parser.add_argument("--threshold", type=float, help="operating score (default: registry's)")
    parser.add_argument("--limit", type=int, help="first N images only")


def run(args: argparse.Namespace) -> int:
    """0 when the study ran, 2 when an input cannot be used (the message says which)."""
    from benchmarks.input_size_report import write_outputs

    try:
        metrics = run_input_size(
            args.checkpoint,
            args.data,
            args.split,
            sizes_px=args.sizes,
            tiles=args.tiles == "2x2",
            threads=args.threads,
            out=args.out,
            registry=args.registry,
            threshold=args.threshold,
            limit=args.limit,
        )
    except INPUT_ERRORS as error:
        logger.error("bench input-size: %s", error)
        return 2
    write_outputs(metrics, args.out, delegated_command_line("input-size", args))
    return 0
