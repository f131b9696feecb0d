"""``vigifeu bench robustness``: accuracy of a model when the camera changes.

The shipped model will meet cameras that no dataset holds: other sensors, compression, optics
and air. This runs one YOLO split through the edge path (as ``bench accuracy`` does) once clean
and once per perturbation of every frame: stronger JPEG compression, a lower-resolution sensor,
blur, sensor noise, exposure (gamma) and haze. Frames keep their size, so only the pixels change.
Each perturbation is a fixed, seeded function of the frame (noise draws from the frame's index),
so two runs see the same pixels.

Reported per perturbation: smoke AP50 and recall/precision at the operating threshold, and their
change from the clean frames. A large drop names an augmentation the training recipe lacks
(``research/smoke-detection-methods.md`` section 2.7). The last two (motion blur, vignetting)
are outside the family that ``augment.camera_effects`` trains with, so a recipe using it is
also measured on changes it did not see.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmarks.accuracy import EDGE_MIRRORS, measure, predict_split
from benchmarks.cli import add_mirror_option
from benchmarks.dataset import DatasetError, load_split
from benchmarks.frames import Image, ImageReadError
from benchmarks.model import DEFAULT_REGISTRY, load_model
from benchmarks.report import delegated_command_line, markdown_table, write_json
from edge.detect.registry import RegistryError
from vigifeu.training.camera_effects import (
    downscale,
    gamma_curve,
    gaussian_blur,
    haze,
    jpeg,
    sensor_noise,
    white_balance,
)

logger = logging.getLogger(__name__)

Perturb = Callable[[Image, int], Image]
HAZE_GREY = 200.0  # the airlight haze fades the scene towards: a bright, slightly blue grey


@dataclass(frozen=True, slots=True)
class Perturbation:
    name: str
    what: str  # the camera change it stands for, for the report
    apply: Perturb


def _motion_blur(length_px: int) -> Perturb:
    kernel = np.full((1, length_px), 1.0 / length_px, np.float32)

    def apply(image: Image, index: int) -> Image:
        smeared: Image = cv2.filter2D(image, -1, kernel)
        return smeared

    return apply


def _vignette(corner_gain: float) -> Perturb:
    def apply(image: Image, index: int) -> Image:
        height, width = image.shape[:2]
        rows, columns = np.ogrid[:height, :width]
        # Squared distance from the centre, 1 at the corners.
        radius2 = ((columns - (width - 1) / 2) / (width / 2)) ** 2 / 2 + (
            (rows - (height - 1) / 2) / (height / 2)
        ) ** 2 / 2
        gain = 1.0 - (1.0 - corner_gain) * radius2
        darkened: Image = np.clip(np.rint(image * gain[..., None]), 0, 255).astype(np.uint8)
        return darkened

    return apply


def _noise(sigma: float) -> Perturb:
    """Sensor noise drawn from the frame's index: the same pixels in every run."""
    return lambda image, index: sensor_noise(image, sigma, np.random.default_rng(index))


PERTURBATIONS = {
    p.name: p
    for p in (
        Perturbation(
            "jpeg-q40", "stronger compression (JPEG quality 40)", lambda image, _: jpeg(image, 40)
        ),
        Perturbation(
            "jpeg-q20", "a starved link (JPEG quality 20)", lambda image, _: jpeg(image, 20)
        ),
        Perturbation(
            "downscale-0.5",
            "half the sensor resolution, upscaled",
            lambda image, _: downscale(image, 0.5),
        ),
        Perturbation(
            "blur-1.5px",
            "soft focus or a dirty dome (Gaussian, 1.5 px)",
            lambda image, _: gaussian_blur(image, 1.5),
        ),
        Perturbation("noise-8", "sensor noise at dusk (Gaussian, 8 grey levels)", _noise(8.0)),
        Perturbation(
            "gamma-0.7", "over-exposed (gamma 0.7)", lambda image, _: gamma_curve(image, 0.7)
        ),
        Perturbation(
            "gamma-1.4", "under-exposed (gamma 1.4)", lambda image, _: gamma_curve(image, 1.4)
        ),
        Perturbation(
            "haze-0.3",
            "haze: 30 % towards a bright grey",
            lambda image, _: haze(image, 0.3, HAZE_GREY),
        ),
        Perturbation(
            "white-balance",
            "another white balance: warmer (red x1.15, blue x0.85)",
            lambda image, _: white_balance(image, (0.85, 1.0, 1.15)),
        ),
        # Not among the camera effects that recipe v5 trains with: robustness beyond them.
        Perturbation(
            "motion-blur-7px",
            "a moving pan-tilt head (7 px horizontal smear); not a training effect",
            _motion_blur(7),
        ),
        Perturbation(
            "vignette-0.5",
            "lens vignetting, corners at half brightness; not a training effect",
            _vignette(0.5),
        ),
    )
}


def _scores(metrics: dict[str, Any], class_name: str) -> dict[str, Any]:
    found = metrics["classes"][class_name]
    return {key: found[key] for key in ("ap50", "precision", "recall", "f1")}


def _change(value: float | None, clean: float | None) -> float | None:
    return None if value is None or clean is None else round(value - clean, 6)


def run_robustness(
    model_name: str | Path,
    data_yaml: Path,
    split_name: str,
    perturbations: Sequence[str],
    *,
    registry: Path = DEFAULT_REGISTRY,
    threshold: float | None = None,
    threads: int = 2,
    class_name: str = "smoke",
    mirror: bool = EDGE_MIRRORS,
) -> dict[str, Any]:
    """The ``metrics.json`` document: clean and per-perturbation scores of ``class_name``."""
    model = load_model(model_name, registry)
    split = load_split(data_yaml, split_name)
    if class_name not in split.class_names:
        raise DatasetError(f"{data_yaml}: no class {class_name!r} in {split.class_names}")
    operating = model.score_threshold if threshold is None else threshold

    def scores(transform: Perturb | None) -> dict[str, Any]:
        predictions = predict_split(
            split, model, threads=threads, transform=transform, mirror=mirror
        )
        return _scores(measure(split, predictions, model, operating, mirror=mirror)[1], class_name)

    clean = scores(None)
    perturbed = {}
    for name in perturbations:
        found = scores(PERTURBATIONS[name].apply)
        perturbed[name] = {
            "what": PERTURBATIONS[name].what,
            **found,
            "ap50_change": _change(found["ap50"], clean["ap50"]),
            "recall_change": _change(found["recall"], clean["recall"]),
        }
        logger.info("robustness %s: %s AP50 %s", name, class_name, found["ap50"])
    ranked = [name for name in perturbed if perturbed[name]["ap50"] is not None]
    worst = min(ranked, key=lambda name: perturbed[name]["ap50"], default=None)
    return {
        "model": {"name": model.info.name, "sha256": model.info.sha256},
        "data": str(data_yaml),
        "split": split_name,
        "images": len(split.images),
        "class": class_name,
        "threshold": operating,
        "views": 2 if mirror else 1,
        "clean": clean,
        "perturbed": perturbed,
        "worst": worst,
    }


def report_markdown(metrics: dict[str, Any], command: str) -> str:
    clean = metrics["clean"]
    rows = [["none (as recorded)", "", clean["ap50"], "", clean["recall"], "", clean["precision"]]]
    rows += [
        [
            f"`{name}`",
            found["what"],
            found["ap50"],
            found["ap50_change"],
            found["recall"],
            found["recall_change"],
            found["precision"],
        ]
        for name, found in metrics["perturbed"].items()
    ]
    return "\n".join(
        [
            f"# Robustness: {metrics['model']['name']} on {metrics['data']} ({metrics['split']})",
            "",
            f"Command: `{command}`",
            "",
            f"{metrics['images']} images, each perturbed the same way; {metrics['class']} AP50, "
            f"and recall / precision at the operating threshold {metrics['threshold']:g} "
            "(IoU 0.5), through the edge path.",
            "",
            markdown_table(
                ["perturbation", "stands for", "AP50", "change", "recall", "change", "precision"],
                rows,
            ),
            "",
        ]
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="YOLO data.yaml")
    parser.add_argument("--split", choices=["train", "val", "test"], default="val")
    parser.add_argument("--model", default="default", help="registry name or .onnx path")
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--threshold", type=float, help="operating score (default: the registry's)")
    parser.add_argument(
        "--perturbations",
        nargs="+",
        choices=sorted(PERTURBATIONS),
        default=list(PERTURBATIONS),
        help="which to run (default: all)",
    )
    parser.add_argument("--out", type=Path, required=True)
    add_mirror_option(parser)


def run(args: argparse.Namespace) -> int:
    try:
        metrics = run_robustness(
            args.model,
            args.data,
            args.split,
            args.perturbations,
            registry=args.registry,
            threshold=args.threshold,
            threads=args.threads,
            mirror=args.mirror,
        )
    except (DatasetError, ImageReadError, RegistryError, FileNotFoundError) as error:
        logger.error("bench robustness: %s", error)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "metrics.json", metrics)
    command = delegated_command_line("robustness", args)
    (args.out / "report.md").write_text(report_markdown(metrics, command), encoding="utf-8")
    logger.info("robustness report written to %s", args.out)
    return 0
