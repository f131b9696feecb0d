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
    from vigifeu.training.export import ExportOutcome, ValSet

logger = logging.getLogger(__name__)

# Candidate operating thresholds: a coarse grid, so the choice made on val does not fit its noise.
# It starts at 0.01 because quantization lowers every score alike: the 0.2-e12 INT8 model, held at
# a 0.05 floor, recalled 0.21 of the val smoke against its FP32 parent's 0.67 at the same AP50.
THRESHOLD_GRID = (0.01, 0.02, 0.03, 0.04, *(round(0.05 * step, 2) for step in range(1, 15)))
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
    """A registry in the work folder naming the models exported so far, so that the evaluation
    runs them with the operating thresholds they will be published with."""
    from edge.detect.registry import Registry, file_sha256
    from vigifeu.training.publish import build_entries, load_provenance

    files = {"pt": outcome.parent_checkpoint.name}
    for kind, path in (("fp32", outcome.fp32), ("int8", outcome.int8)):
        if path.is_file():
            files[kind] = path.name
            files[f"{kind}_sha256"] = file_sha256(path)
    provenance = load_provenance(
        outcome.plan.run_dir, outcome.checkpoint_epoch, outcome.plan.checkpoint
    )
    entries = build_entries(outcome, files, provenance)
    registry = Registry(default=entries["fp32"].name, models=list(entries.values()))
    path = outcome.plan.work_dir / "registry.yaml"
    registry.save(path)
    return path


def _evaluate(outcome: ExportOutcome, kind: str, val: ValSet, threshold: float | None) -> Any:
    from benchmarks.accuracy import run_accuracy

    registry = write_scratch_registry(outcome)
    return run_accuracy(
        f"{outcome.plan.name}-{kind}",
        val.data_yaml,
        val.split,
        registry=registry,
        threshold=threshold,
        limit=outcome.plan.val_limit,
    )


def _store(outcome: ExportOutcome, kind: str, label: str, document: dict[str, Any]) -> None:
    document.pop("model", None)
    outcome.metrics.setdefault(kind, {})[label] = document


def _evaluate_all(outcome: ExportOutcome, kind: str, first: Any) -> None:
    """Fix ``kind``'s operating threshold on its gate-set run ``first`` if asked to, then store
    its metrics on the gate set (same predictions, re-thresholded) and on every other set."""
    from benchmarks.accuracy import measure

    plan = outcome.plan
    gate_set, *others = plan.val_sets
    if plan.score_threshold is None:
        outcome.score_thresholds[kind] = best_threshold(first)
        logger.info(
            "%s operating threshold %.2f (best smoke F1)", kind, outcome.score_thresholds[kind]
        )
    threshold = outcome.score_thresholds[kind]
    mirror = first.metrics["views"] == 2
    _, document = measure(first.split, first.predictions, first.model, threshold, mirror=mirror)
    _store(outcome, kind, gate_set.label, document)
    for val in others:
        _store(outcome, kind, val.label, _evaluate(outcome, kind, val, threshold).metrics)


def evaluate_fp32(outcome: ExportOutcome) -> None:
    """FP32 on every val set, at its own operating threshold."""
    _evaluate_all(outcome, "fp32", _evaluate(outcome, "fp32", outcome.plan.val_sets[0], None))


def evaluate_int8(outcome: ExportOutcome) -> bool:
    """INT8 on the gate set, then, only if it passes, on the other sets and for latency.

    The INT8 model gets its own operating threshold: quantization can shift every score alike
    (measured: all scores lower, AP50 unchanged), which moves the best threshold, not the ranking
    the gate compares.
    """
    plan = outcome.plan
    gate_set = plan.val_sets[0]
    run = _evaluate(outcome, "int8", gate_set, None)
    _store(outcome, "int8", gate_set.label, run.metrics)
    outcome.gate = gate(outcome.metrics, gate_set.label, plan.max_ap50_drop)
    if not outcome.gate["passed"]:
        return False
    _evaluate_all(outcome, "int8", run)
    frame = run.split.images[0].path
    outcome.latency = measure_latency({"fp32": outcome.fp32, "int8": outcome.int8}, frame)
    return True
