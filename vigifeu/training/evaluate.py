"""Evaluation of an exported FP32/INT8 pair through the edge inference path, and the INT8 gate.

Both models run through ``benchmarks.accuracy`` (the edge ``OnnxDetector``: same letterbox,
session options, decode and NMS as a camera site) on every val set, from a scratch registry in
the work folder that carries the thresholds they will be published with.
"""

from __future__ import annotations

import logging
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigifeu.training.export import ExportOutcome

logger = logging.getLogger(__name__)

# Candidate operating thresholds: a coarse grid, so the choice made on val does not fit its noise.
THRESHOLD_GRID = tuple(round(0.05 * step, 2) for step in range(2, 15))
GATE_CLASS = "smoke"
LATENCY_RUNS = 20


def best_threshold(run: Any, class_name: str = GATE_CLASS) -> float:
    """The grid threshold of best F1 for ``class_name``; when several tie, the middle one, which
    keeps a margin on both sides of the plateau."""
    from benchmarks.metrics import class_metrics

    matches = run.matches[run.split.class_names.index(class_name)]
    scores = [round(class_metrics(matches, t).f1 or 0.0, 6) for t in THRESHOLD_GRID]
    best = [t for t, score in zip(THRESHOLD_GRID, scores, strict=True) if score == max(scores)]
    return best[(len(best) - 1) // 2]


def measure_latency(models: dict[str, Path], image: Path, threads: int = 2) -> dict[str, Any]:
    """Median per-frame times of each model through the edge detector on one real frame.

    The models take turns, run after run, so that a load change on a shared machine hits them
    alike and their ratio stays meaningful.
    """
    from benchmarks.frames import make_frame, read_image
    from contracts import ModelInfo
    from edge.detect.onnx_detector import OnnxDetector
    from edge.detect.registry import file_sha256

    detectors = {
        kind: OnnxDetector(
            path,
            model_info=ModelInfo(name=path.stem, version="latency", sha256=file_sha256(path)),
            threads=threads,
        )
        for kind, path in models.items()
    }
    frame = make_frame(read_image(image), 0)
    inference: dict[str, list[float]] = {kind: [] for kind in models}
    total: dict[str, list[float]] = {kind: [] for kind in models}
    for _ in range(LATENCY_RUNS):
        for kind, detector in detectors.items():
            timings = detector.detect([frame])[0].timings
            if timings is not None:
                inference[kind].append(timings.inference_ms)
                total[kind].append(
                    timings.preprocess_ms + timings.inference_ms + timings.postprocess_ms
                )
    return {
        kind: {
            "inference_ms": round(statistics.median(inference[kind]), 2),
            "total_ms": round(statistics.median(total[kind]), 2),
            "threads": threads,
            "runs": LATENCY_RUNS,
            "frame": image.name,
        }
        for kind in models
    }


def gate(metrics: dict[str, dict[str, Any]], gate_set: str, max_drop: float) -> dict[str, Any]:
    """INT8 passes when its smoke AP50 on ``gate_set`` is at most ``max_drop`` below FP32's
    (a class never detected has no AP: it counts as 0)."""
    fp32 = metrics["fp32"][gate_set]["classes"][GATE_CLASS]["ap50"] or 0.0
    int8 = metrics["int8"][gate_set]["classes"][GATE_CLASS]["ap50"] or 0.0
    return {
        "set": gate_set,
        "class": GATE_CLASS,
        "fp32_ap50": fp32,
        "int8_ap50": int8,
        "max_drop": max_drop,
        "passed": fp32 - int8 <= max_drop,
    }


def write_scratch_registry(outcome: ExportOutcome) -> Path:
    """A registry in the work folder naming both models, so that the evaluation runs them with
    the operating thresholds they will be published with."""
    from edge.detect.registry import Registry, file_sha256
    from vigifeu.training.publish import build_entries, load_provenance

    work_dir = outcome.plan.work_dir
    files = {"pt": outcome.parent_checkpoint.name}
    for kind, path in (("fp32", outcome.fp32), ("int8", outcome.int8)):
        files[kind] = path.name
        files[f"{kind}_sha256"] = file_sha256(path)
    provenance = load_provenance(
        outcome.plan.run_dir, outcome.checkpoint_epoch, outcome.plan.checkpoint
    )
    entries = build_entries(outcome, files, provenance)
    registry = Registry(default=entries["int8"].name, models=list(entries.values()))
    path = work_dir / "registry.yaml"
    registry.save(path)
    return path


def evaluate_models(outcome: ExportOutcome) -> None:
    """Run both models on every val set; fixes the operating threshold first if asked to."""
    from benchmarks.accuracy import measure, run_accuracy

    plan = outcome.plan
    registry = write_scratch_registry(outcome)
    names = {kind: f"{plan.name}-{kind}" for kind in ("fp32", "int8")}
    gate_set = plan.val_sets[0]
    first = run_accuracy(
        names["int8"], gate_set.data_yaml, gate_set.split, registry=registry, limit=plan.val_limit
    )
    if plan.score_threshold is None:
        outcome.score_threshold = best_threshold(first)
        logger.info("operating threshold %.2f (best INT8 smoke F1)", outcome.score_threshold)
    for kind, name in names.items():
        outcome.metrics[kind] = {}
        for val in plan.val_sets:
            if kind == "int8" and val is gate_set:
                _, doc = measure(
                    first.split, first.predictions, first.model, outcome.score_threshold
                )
            else:
                doc = run_accuracy(
                    name,
                    val.data_yaml,
                    val.split,
                    registry=registry,
                    threshold=outcome.score_threshold,
                    limit=plan.val_limit,
                ).metrics
            doc.pop("model", None)
            outcome.metrics[kind][val.label] = doc
    frame = first.split.images[0].path
    outcome.latency = measure_latency({"fp32": outcome.fp32, "int8": outcome.int8}, frame)
