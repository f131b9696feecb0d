"""``vigifeu bench compare``: do two or more models score apart beyond the noise of the val set?

A rerun of a training recipe (another seed, another machine) and a model candidate are judged on
a val set of ~100 plumes, where a handful of boxes flipping moves AP50 by several points. This
runs every model through the edge path on one split (as ``bench accuracy`` does), then a paired
bootstrap over the split's images (``benchmarks/bootstrap.py``; every model scored on the same
draws) gives per class:

- each model's AP50 and its 95 % interval;
- each model's difference from the first (the reference) and its 95 % interval. An interval
  that holds 0 is within the noise of the val set: the split cannot tell the two models apart;
- the spread of the models' AP50 (mean, sample standard deviation, range): over the seeds of
  one recipe, the run-to-run noise that one val score of a rerun should be read against.
"""

from __future__ import annotations

import argparse
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.accuracy import DEFAULT_THREADS, EDGE_MIRRORS, measure, predict_split
from benchmarks.bootstrap import (
    BOOTSTRAP_ROUNDS,
    interval95,
    resample_counts,
    resampled_ap50,
    truths_per_image,
)
from benchmarks.cli import add_mirror_option
from benchmarks.dataset import DatasetError, load_split
from benchmarks.frames import ImageReadError
from benchmarks.metrics import Floats
from benchmarks.model import DEFAULT_REGISTRY, load_model
from benchmarks.report import delegated_command_line, fmt, markdown_table, write_json
from edge.detect.registry import RegistryError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scored:
    """One model's AP50 of one class: the point estimate and one value per bootstrap round."""

    ap50: float | None
    rounds: Floats


def _interval(rounds: Floats) -> list[float] | None:
    found = interval95(rounds)
    return list(found) if found else None


def _spread(values: Sequence[float]) -> dict[str, Any]:
    return {
        "models": len(values),
        "mean": statistics.fmean(values) if values else None,
        "sd": statistics.stdev(values) if len(values) > 1 else None,
        "min": min(values, default=None),
        "max": max(values, default=None),
    }


def _difference(model: Scored, reference: Scored) -> dict[str, Any]:
    point = None if model.ap50 is None or reference.ap50 is None else model.ap50 - reference.ap50
    interval = _interval(model.rounds - reference.rounds)
    return {
        "ap50": point,
        "ci95": interval,
        "within_noise": None if interval is None else interval[0] <= 0.0 <= interval[1],
    }


def compare_models(
    models: Sequence[str | Path],
    data_yaml: Path,
    split_name: str,
    *,
    registry: Path = DEFAULT_REGISTRY,
    threads: int = DEFAULT_THREADS,
    mirror: bool = EDGE_MIRRORS,
    rounds: int = BOOTSTRAP_ROUNDS,
) -> dict[str, Any]:
    """The ``metrics.json`` document; the first model is the reference of the differences."""
    labels = [str(model) for model in models]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"compare needs two or more different models, got {labels}")
    split = load_split(data_yaml, split_name)
    counts = resample_counts(len(split.images), rounds)
    classes = [
        (class_id, name)
        for class_id, name in enumerate(split.class_names)
        if truths_per_image(split, class_id).sum()
    ]
    scored: dict[str, dict[str, Scored]] = {}
    entries = []
    for label in labels:
        model = load_model(label, registry)
        predictions = predict_split(split, model, threads=threads, mirror=mirror)
        matches, metrics = measure(split, predictions, model, model.score_threshold, mirror=mirror)
        scored[label] = {
            name: Scored(
                metrics["classes"][name]["ap50"],
                resampled_ap50(matches[class_id], truths_per_image(split, class_id), counts),
            )
            for class_id, name in classes
        }
        entries.append(
            {
                "label": label,
                "name": model.info.name,
                "version": model.info.version,
                "sha256": model.info.sha256,
                "classes": {
                    name: {"ap50": found.ap50, "ap50_ci95": _interval(found.rounds)}
                    for name, found in scored[label].items()
                },
            }
        )
        logger.info("compare %s: %s", label, {n: s.ap50 for n, s in scored[label].items()})
    reference = labels[0]
    return {
        "data": str(data_yaml),
        "split": split_name,
        "images": len(split.images),
        "views": 2 if mirror else 1,
        "bootstrap_rounds": rounds,
        "reference": reference,
        "models": entries,
        "differences": [
            {
                "label": label,
                "classes": {
                    name: _difference(scored[label][name], scored[reference][name])
                    for _, name in classes
                },
            }
            for label in labels[1:]
        ],
        "spread": {
            name: _spread(
                [s.ap50 for label in labels if (s := scored[label][name]).ap50 is not None]
            )
            for _, name in classes
        },
    }


def _within(verdict: bool | None) -> str:
    return {True: "within noise", False: "apart", None: "–"}[verdict]


def report_markdown(metrics: dict[str, Any], command: str) -> str:
    names = list(metrics["spread"])
    differences = {row["label"]: row["classes"] for row in metrics["differences"]}
    rows = []
    for entry in metrics["models"]:
        cells: list[Any] = [f"`{entry['label']}`"]
        for name in names:
            found, difference = entry["classes"][name], differences.get(entry["label"])
            low_high = found["ap50_ci95"]
            cells.append(fmt(found["ap50"]))
            cells.append("–" if low_high is None else f"{fmt(low_high[0])}–{fmt(low_high[1])}")
            if difference is None:
                cells.append("reference")
            else:
                d = difference[name]
                interval = d["ci95"]
                shown = "–" if interval is None else f"[{interval[0]:+.3f}, {interval[1]:+.3f}]"
                cells.append(f"{d['ap50']:+.3f} {shown}: {_within(d['within_noise'])}")
        rows.append(cells)
    headers = ["model"]
    for name in names:
        headers += [f"{name} AP50", "95 % interval", "minus the reference [95 %]"]
    spread_rows = [
        [name, s["models"], fmt(s["mean"]), fmt(s["sd"]), fmt(s["min"]), fmt(s["max"])]
        for name, s in metrics["spread"].items()
    ]
    views = "the frame and its mirror" if metrics["views"] == 2 else "the frame alone"
    return "\n".join(
        [
            f"# Model comparison on {metrics['data']} ({metrics['split']})",
            "",
            f"Command: `{command}`",
            "",
            f"{metrics['images']} images, {views}; intervals from a paired bootstrap over the "
            f"images ({metrics['bootstrap_rounds']} rounds, the same draws for every model). A "
            "difference whose interval holds 0 is within the noise of this split.",
            "",
            markdown_table(headers, rows),
            "",
            "Spread of AP50 over the models (over the seeds of one recipe: run-to-run noise):",
            "",
            markdown_table(["class", "models", "mean", "sd", "min", "max"], spread_rows),
            "",
        ]
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="YOLO data.yaml")
    parser.add_argument("--split", choices=["train", "val", "test"], default="val")
    parser.add_argument(
        "--models",
        nargs="+",
        required=True,
        help="registry names or .onnx paths, 2 or more; the first is the reference",
    )
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="onnxruntime intra-op threads"
    )
    parser.add_argument("--rounds", type=int, default=BOOTSTRAP_ROUNDS, help="bootstrap rounds")
    parser.add_argument("--out", type=Path, required=True)
    add_mirror_option(parser)


def run(args: argparse.Namespace) -> int:
    try:
        metrics = compare_models(
            args.models,
            args.data,
            args.split,
            registry=args.registry,
            threads=args.threads,
            mirror=args.mirror,
            rounds=args.rounds,
        )
    except (DatasetError, ImageReadError, RegistryError, FileNotFoundError, ValueError) as error:
        logger.error("bench compare: %s", error)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "metrics.json", metrics)
    command = delegated_command_line("compare", args)
    (args.out / "report.md").write_text(report_markdown(metrics, command), encoding="utf-8")
    for row in metrics["differences"]:
        for name, difference in row["classes"].items():
            logger.info(
                "%s minus %s, %s AP50: %s, 95%% interval %s: %s",
                row["label"],
                metrics["reference"],
                name,
                fmt(difference["ap50"]),
                difference["ci95"],
                _within(difference["within_noise"]),
            )
    logger.info("comparison written to %s", args.out)
    return 0
