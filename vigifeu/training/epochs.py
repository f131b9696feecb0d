"""``vigifeu epochs``: the gate metric of every epoch checkpoint of a run, to see its swings.

ultralytics validates each epoch on the run's combined val set, all classes together; whether a
recipe gives stable models shows on the gate metric itself, smoke AP50 on the lookout val set.
Each ``train/weights/epochN.pt`` (epoch N+1) and ``averaged.pt`` is exported to FP32 ONNX and
run through the edge path, as the export's gate does (``benchmarks.accuracy``; ~12 s a
checkpoint on 2 cores). Not through ultralytics' own validator: it keeps every class above the
floor for each box, suppresses at IoU 0.7 and matches boxes by IoU, and on hpwren val it put
recipe v2's epochs 3-8 points above the edge path and v1's mostly 3-7 points below.

``--same-as OTHER_RUN`` instead checks that two runs of one recipe and seed are the same run:
the EMA weights (what is averaged and shipped) of every epoch both saved, bitwise. Training is
deterministic on one machine, interrupted or not (``resumable.py``), so any difference is a
change of code, data, library or hardware.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import logging
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.robustness import PERTURBATIONS
from edge.detect.preprocess import InputSize
from vigifeu.training.average import AVERAGED_NAME, numbered_epoch_checkpoints
from vigifeu.training.evaluate import GATE_CLASS
from vigifeu.training.export import export_fp32, parse_input_size
from vigifeu.training.hermetic import make_ultralytics_hermetic

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckpointScore:
    label: str  # "1".."N" for epochs, "averaged"
    ap50: float
    ap50_95: float


def mean_swing(scores: list[CheckpointScore]) -> float | None:
    """Mean absolute change of AP50 from one epoch to the next."""
    epochs = [score.ap50 for score in scores if score.label.isdigit()]
    if len(epochs) < 2:
        return None
    return statistics.fmean(abs(b - a) for a, b in itertools.pairwise(epochs))


@dataclass(frozen=True, slots=True)
class EpochComparison:
    epoch: int  # 1-based
    tensors: int
    different: tuple[str, ...]  # names of the EMA tensors that differ or exist in one run only


def compare_runs(weights_dir: Path, other_weights_dir: Path) -> list[EpochComparison]:
    """For each epoch both runs saved: which EMA tensors differ. Unpickling checkpoints imports
    ultralytics: call it with ultralytics made hermetic."""
    import torch

    other = dict(numbered_epoch_checkpoints(other_weights_dir))
    comparisons = []
    for epoch, path in numbered_epoch_checkpoints(weights_dir):
        if epoch not in other:
            continue
        mine, theirs = _ema_tensors(path), _ema_tensors(other[epoch])
        different = sorted(mine.keys() ^ theirs.keys()) + [
            name
            for name, tensor in mine.items()
            if name in theirs and not torch.equal(tensor, theirs[name])
        ]
        comparisons.append(EpochComparison(epoch, len(mine), tuple(different)))
    return comparisons


def _ema_tensors(checkpoint: Path) -> dict[str, Any]:
    import torch

    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    tensors: dict[str, Any] = saved["ema"].state_dict()
    return tensors


def score_checkpoints(
    checkpoints: list[tuple[str, Path]],
    data_yaml: Path,
    split: str,
    input_size: InputSize,
    perturbation: str | None = None,
) -> list[CheckpointScore]:
    """Smoke AP50 of each checkpoint through the edge path, on frames perturbed as
    ``vigifeu bench robustness`` does when ``perturbation`` names one."""
    from benchmarks.accuracy import run_accuracy
    from benchmarks.robustness import PERTURBATIONS

    transform = PERTURBATIONS[perturbation].apply if perturbation else None
    scores = []
    for label, path in checkpoints:
        with tempfile.TemporaryDirectory() as scratch:
            _, fp32, _ = export_fp32(path, input_size, Path(scratch), f"epoch-{label}")
            # One view: comparable with the per-epoch tables of models/README.md, at half the cost.
            run = run_accuracy(fp32, data_yaml, split, transform=transform, mirror=False)
            smoke = run.metrics["classes"][GATE_CLASS]
        score = CheckpointScore(label, float(smoke["ap50"]), float(smoke["ap50_95"]))
        logger.info("%s: smoke AP50 %.3f", path.name, score.ap50)
        scores.append(score)
    return scores


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, required=True, help="a `vigifeu train` run folder")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("../shared/datasets/wildfire_smoke_hpwren/data.yaml"),
        help="YOLO data.yaml of the gate set",
    )
    parser.add_argument("--split", default="val")
    parser.add_argument(
        "--input-size",
        type=parse_input_size,
        default=InputSize(640, 480),
        help="static ONNX input WIDTHxHEIGHT, as the export (default: 640x480)",
    )
    parser.add_argument("--from-epoch", type=int, default=1, help="first epoch to score (1-based)")
    parser.add_argument(
        "--perturbation",
        choices=sorted(PERTURBATIONS),
        help="score on frames perturbed as vigifeu bench robustness does (e.g. noise-8)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="CSV (default: RUN_DIR/epochs.csv, or epochs-PERTURBATION.csv)",
    )
    parser.add_argument(
        "--same-as",
        type=Path,
        metavar="OTHER_RUN",
        help="instead of scoring: are the EMA weights of each epoch both runs saved bitwise "
        "equal? (exit 1 if any differ)",
    )


def run(args: argparse.Namespace) -> int:
    weights = args.run_dir / "train" / "weights"
    if args.same_as is not None:
        make_ultralytics_hermetic(args.run_dir / "ultralytics_config")
        return _report_comparison(compare_runs(weights, args.same_as / "train" / "weights"))
    checkpoints = [
        (str(epoch), path)
        for epoch, path in numbered_epoch_checkpoints(weights)
        if epoch >= args.from_epoch
    ]
    if (weights / AVERAGED_NAME).exists():
        checkpoints.append(("averaged", weights / AVERAGED_NAME))
    if not checkpoints:
        logger.error("no epoch checkpoints in %s", weights)
        return 2
    scores = score_checkpoints(
        checkpoints, args.data, args.split, args.input_size, args.perturbation
    )
    suffix = f"-{args.perturbation}" if args.perturbation else ""
    out = args.out or args.run_dir / f"epochs{suffix}.csv"
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["checkpoint", "smoke_ap50", "smoke_ap50_95"])
        for score in scores:
            writer.writerow([score.label, f"{score.ap50:.4f}", f"{score.ap50_95:.4f}"])
    for score in scores:
        print(f"{score.label:>9}  smoke AP50 {score.ap50:.3f}  AP50-95 {score.ap50_95:.3f}")  # noqa: T201
    swing = mean_swing(scores)
    if swing is not None:
        print(f"mean epoch-to-epoch change of smoke AP50: {swing:.3f}")  # noqa: T201
    print(f"written: {out}")  # noqa: T201
    return 0


def _report_comparison(comparisons: list[EpochComparison]) -> int:
    if not comparisons:
        logger.error("the two runs have no epoch checkpoint in common")
        return 2
    for compared in comparisons:
        if compared.different:
            verdict = (
                f"{len(compared.different)} of {compared.tensors} EMA tensors differ, "
                f"e.g. {', '.join(compared.different[:3])}"
            )
        else:
            verdict = f"bitwise equal ({compared.tensors} EMA tensors)"
        print(f"epoch {compared.epoch:>3}: {verdict}")  # noqa: T201
    return 1 if any(compared.different for compared in comparisons) else 0
