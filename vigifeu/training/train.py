"""``vigifeu train``: prepare data, transfer COCO weights, train with ultralytics, offline.

A run folder holds everything: ``data/`` (the prepared dataset), ``init.pt`` (the transferred
start point), ``train/`` (ultralytics' output: weights/last.pt, best.pt, one checkpoint per
epoch, results.csv, curves), ``train/weights/averaged.pt`` (the mean of the last epochs, when
the recipe asks for it) and ``run.json`` (the recipe, the inputs and the transfer report).
Re-running with ``--resume`` continues from ``train/weights/last.pt``; ``--average-only`` only
re-makes ``averaged.pt`` from a finished run.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vigifeu.training.hermetic import make_ultralytics_hermetic
from vigifeu.training.recipe import RUN_FILE, Recipe, load_recipe, run_recipe

logger = logging.getLogger(__name__)

DEFAULT_COCO_CHECKPOINT = Path("../shared/weights/yolov5n_coco/yolov5n.pt")


def build_init_checkpoint(recipe: Recipe, coco_checkpoint: Path, out: Path) -> dict[str, Any]:
    """Write an ultralytics checkpoint of the recipe's architecture, COCO tensors transferred."""
    import torch
    from ultralytics.nn.tasks import DetectionModel

    from vigifeu.training.coco_transfer import load_yolov5_state_dict, transfer_into

    torch.manual_seed(recipe.seed)
    model = DetectionModel(recipe.architecture, nc=2, verbose=False)
    model.names = {0: "smoke", 1: "fire"}
    report: dict[str, Any] = {"init": recipe.init}
    if recipe.init == "coco-yolov5n":
        transfer = transfer_into(
            model, load_yolov5_state_dict(coco_checkpoint), recipe.architecture
        )
        logger.info("COCO transfer: %s", transfer)
        report.update(
            transferred=transfer.transferred,
            target_tensors=transfer.target_tensors,
            source_tensors=transfer.source_tensors,
        )
    torch.save({"model": model, "train_args": {}, "date": None, "version": "vigifeu-init"}, out)
    return report


# What decides the weights besides the recipe and the data: the shipped command, rerun on a new
# machine after a fresh install, gave other weights, and nothing said what had changed
# (models/README.md).
RECORDED_PACKAGES = (
    "torch",
    "torchvision",
    "ultralytics",
    "numpy",
    "opencv-python-headless",
    "pillow",
    "onnx",
    "onnxruntime",
)


def environment() -> dict[str, Any]:
    """Library versions, Python, CPU and torch threads of this run (recorded in run.json)."""
    from ultralytics.utils import NUM_THREADS

    from benchmarks.speed import cpu_name

    versions: dict[str, str | None] = {}
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "packages": versions,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": cpu_name(),
        # ultralytics sets torch to this many threads for CPU training: cpu_count - 1, max 8
        "torch_threads": NUM_THREADS,
    }


def _train_arguments(
    recipe: Recipe, data_yaml: Path, run_dir: Path, device: str, workers: int
) -> dict[str, Any]:
    return {
        "data": str(data_yaml),
        "epochs": recipe.epochs,
        "imgsz": recipe.image_size,
        "batch": recipe.batch,
        "nbs": recipe.nominal_batch,
        "optimizer": recipe.optimizer,
        "lr0": recipe.lr0,
        "lrf": recipe.lrf,
        "warmup_epochs": recipe.warmup_epochs,
        "patience": recipe.patience,
        "close_mosaic": recipe.close_mosaic,
        "seed": recipe.seed,
        "deterministic": True,
        "device": device,
        "workers": workers,
        "project": str(run_dir.resolve()),
        "name": "train",
        "exist_ok": True,
        "save_period": 1,
        # Images cached in RAM: no JPEG decoding each epoch, and no mosaic partner buffer (the
        # recently loaded images), whose state an interrupted run would lose (``resumable``).
        "cache": "ram",
        "amp": device != "cpu",
        "plots": True,
        "val": True,
        **recipe.augment.ultralytics_settings,
    }


def train(
    recipe_path: Path,
    lookouts: Sequence[Path],
    extra: Path | None,
    run_dir: Path,
    device: str,
    coco_checkpoint: Path,
    resume: bool,
    workers: int = 0,
    epochs: int | None = None,
    seed: int | None = None,
) -> Path:
    """Run (or resume) the recipe; returns the checkpoint to export (``export_checkpoint``)."""
    recipe = load_recipe(recipe_path)
    overrides = {"epochs": epochs, "seed": seed}
    recipe = recipe.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    last = run_dir / "train" / "weights" / "last.pt"
    if resume and last.exists():
        recipe = _started_recipe(run_dir, recipe)
    run_dir.mkdir(parents=True, exist_ok=True)
    make_ultralytics_hermetic(run_dir / "ultralytics_config")
    from ultralytics import YOLO

    from vigifeu.training.camera_effects import CameraEffectsRun
    from vigifeu.training.resumable import ResumableRun

    callbacks: list[ResumableRun | CameraEffectsRun] = [
        ResumableRun(recipe.seed, recipe.ema_horizon_epochs)
    ]
    if recipe.augment.camera_effects > 0:
        callbacks.append(
            CameraEffectsRun(recipe.augment.camera_effects, recipe.augment.camera_white_balance)
        )
    if resume and last.exists():
        logger.info("resuming from %s", last)
        model = YOLO(str(last))
        for callback in callbacks:
            callback.install(model)
        model.train(resume=True)
    else:
        from vigifeu.training.data import prepare_dataset

        data_yaml = prepare_dataset(lookouts, extra, recipe.data, recipe.seed, run_dir / "data")
        init = run_dir / "init.pt"
        transfer = build_init_checkpoint(recipe, coco_checkpoint, init)
        (run_dir / RUN_FILE).write_text(
            json.dumps(
                {
                    "recipe": recipe.model_dump(),
                    "recipe_file": str(recipe_path),
                    "lookouts": [str(lookout) for lookout in lookouts],
                    "extra": str(extra) if extra else None,
                    "device": device,
                    "transfer": transfer,
                    "environment": environment(),
                },
                indent=2,
            )
        )
        model = YOLO(str(init))
        for callback in callbacks:
            callback.install(model)
        model.train(**_train_arguments(recipe, data_yaml, run_dir, device, workers))
    from vigifeu.training.report import write_training_report

    write_training_report(run_dir / "train" / "results.csv", run_dir / "training_report.png")
    return export_checkpoint(recipe, run_dir)


def _started_recipe(run_dir: Path, given: Recipe) -> Recipe:
    """The recipe the run started with (``run.json``): a resume continues that run, whatever
    recipe file the command names now."""
    try:
        started = run_recipe(run_dir).recipe
    except ValueError as error:
        logger.warning("%s: resuming with the given recipe", error)
        return given
    if started != given:
        logger.warning("resuming with the recipe %s started with, not the one given", run_dir)
    return started


def export_checkpoint(recipe: Recipe, run_dir: Path) -> Path:
    """The averaged checkpoint, written now, when the recipe averages epochs; else ultralytics'
    best. Unpickling checkpoints imports ultralytics: call it with ultralytics made hermetic."""
    weights = run_dir / "train" / "weights"
    if recipe.average_last_epochs > 1:
        from vigifeu.training.average import average_last_epochs

        return average_last_epochs(weights, recipe.average_last_epochs)
    best = weights / "best.pt"
    return best if best.exists() else weights / "last.pt"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--recipe",
        type=Path,
        default=Path("models/recipes/smoke-fire-v6.yaml"),
        help="training recipe (default: the shipped model's)",
    )
    parser.add_argument(
        "--lookout",
        type=Path,
        action="append",
        required=True,
        help="YOLO dataset of lookout frames, e.g. ../shared/datasets/wildfire_smoke_hpwren; "
        "repeat to add more (operators' verdicts from vigifeu export-labels, new cameras)",
    )
    parser.add_argument(
        "--extra",
        type=Path,
        default=None,
        help="YOLO dataset of fire images and hard negatives (optional)",
    )
    parser.add_argument("--run-dir", type=Path, default=Path("runs/train/smoke-fire-v6"))
    parser.add_argument("--device", default="cpu", help="cpu, or a CUDA index such as 0")
    parser.add_argument("--coco-checkpoint", type=Path, default=DEFAULT_COCO_CHECKPOINT)
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe (tests)")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="override the recipe's seed, to see the spread of a recipe over runs (run.json "
        "records the recipe as run)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the run's last.pt")
    parser.add_argument(
        "--average-only",
        action="store_true",
        help="train nothing: average the finished run's last epochs (recipe average_last_epochs)",
    )


def run(args: argparse.Namespace) -> int:
    if args.average_only:
        make_ultralytics_hermetic(args.run_dir / "ultralytics_config")
        checkpoint = export_checkpoint(load_recipe(args.recipe), args.run_dir)
    else:
        checkpoint = train(
            args.recipe,
            args.lookout,
            args.extra,
            args.run_dir,
            args.device,
            args.coco_checkpoint,
            args.resume,
            epochs=args.epochs,
            seed=args.seed,
        )
    print(f"checkpoint to export: {checkpoint}")  # noqa: T201 - command output
    return 0
