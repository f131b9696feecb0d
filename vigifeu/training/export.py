"""``vigifeu export``: checkpoint -> FP32 ONNX -> INT8 ONNX -> accuracy gate -> models/ + registry.

Everything is written to a work folder first. Both ONNX models then run through the edge's own
detector (``benchmarks.accuracy``: same letterbox, session and decode as a camera site) on every
val set; the INT8 model is refused, and nothing is written to ``models/``, when its smoke AP50 on
the first val set (the lookout-camera set) is more than ``--max-ap50-drop`` below its FP32 parent.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.detect.preprocess import MAX_STRIDE_PX, InputSize
from vigifeu.training.evaluate import GATE_CLASS, evaluate_fp32, evaluate_int8
from vigifeu.training.hermetic import make_ultralytics_hermetic
from vigifeu.training.recipe import RUN_FILE, RunRecipe, load_recipe, run_recipe

logger = logging.getLogger(__name__)

SHARED = Path("../shared/datasets")
DEFAULT_VAL = (
    f"wildfire_smoke_hpwren={SHARED}/wildfire_smoke_hpwren/data.yaml",
    f"wildfire_extra={SHARED}/wildfire_extra/data.yaml",
)
DEFAULT_CALIBRATION = (SHARED / "wildfire_smoke_hpwren", SHARED / "wildfire_extra")
# INT8 variants tried in order until one passes the gate, CALIBRATION:FLOAT_SCOPE (see
# quantize.CALIBRATIONS and FLOAT_SCOPES): the fastest first, more in float after each refusal.
DEFAULT_TRIES = ("minmax-ema:decode", "minmax-ema:classes", "minmax-ema:head")
# Operating threshold until the best-F1 choice replaces it (ultralytics' predict() default).
DEFAULT_SCORE_THRESHOLD = 0.25


def parse_input_size(text: str) -> InputSize:
    """``--input-size``: ``640x480`` (width x height, the cameras' aspect) or ``640`` (square)."""
    try:
        size = InputSize.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if size.width_px % MAX_STRIDE_PX or size.height_px % MAX_STRIDE_PX:
        raise argparse.ArgumentTypeError(
            f"input size {size} must be a multiple of {MAX_STRIDE_PX} px on both sides"
        )
    return size


@dataclass(frozen=True, slots=True)
class ValSet:
    label: str
    data_yaml: Path
    split: str = "val"

    @staticmethod
    def parse(spec: str) -> ValSet:
        """``LABEL=DATA_YAML[:SPLIT]``."""
        label, sep, rest = spec.partition("=")
        if not sep or not label or not rest:
            raise ValueError(f"val set {spec!r} is not LABEL=DATA_YAML[:SPLIT]")
        path, _, split = rest.partition(":")
        return ValSet(label, Path(path), split or "val")


@dataclass(frozen=True, slots=True)
class ExportPlan:
    checkpoint: Path
    name: str
    version: str
    image_size: int | InputSize  # an int is a square
    work_dir: Path
    val_sets: tuple[ValSet, ...]  # the first one is the gate set
    calibration_datasets: tuple[Path, ...]
    calibration_frames: int = 200
    tries: tuple[str, ...] = DEFAULT_TRIES
    seed: int = 6
    score_threshold: float | None = None  # None: each model's best smoke F1 on the gate set
    iou_threshold: float = 0.45
    max_ap50_drop: float = 0.01
    whole_graph: bool = False  # True only to prove that the gate refuses a broken model
    val_limit: int | None = None
    run_dir: Path | None = None  # training run folder: run.json, results.csv (for the card)
    opset: int | None = None  # None: ultralytics' choice for the installed onnx (18 here)
    card_note: str | None = None  # why this checkpoint, in the cards

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def input_size(self) -> InputSize:
        return InputSize.of(self.image_size)


@dataclass(slots=True)
class ExportOutcome:
    plan: ExportPlan
    parent_checkpoint: Path
    fp32: Path
    int8: Path
    checkpoint_epoch: int | None
    score_thresholds: dict[str, float]  # "fp32"/"int8" -> operating score threshold
    excluded_nodes: int
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # "fp32"/"int8" -> set -> doc
    latency: dict[str, dict[str, Any]] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)
    tries: list[dict[str, Any]] = field(default_factory=list)  # one gate document per calibration

    @property
    def passed(self) -> bool:
        return bool(self.gate.get("passed"))


def export_fp32(
    checkpoint: Path,
    image_size: int | InputSize,
    work_dir: Path,
    stem: str,
    opset: int | None = None,
) -> tuple[Path, Path, int | None]:
    """Copy the checkpoint (optimizer stripped) into ``work_dir`` and export it beside itself,
    with a static ``image_size`` input (an int is a square).

    ultralytics writes the ONNX file next to the ``.pt`` it exports, so exporting the copy keeps
    the training run folder read-only. Returns (stripped .pt, FP32 .onnx, 1-based epoch of the
    checkpoint or None).
    """
    make_ultralytics_hermetic(work_dir / "ultralytics_config")
    import torch
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import strip_optimizer

    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    epoch = saved.get("epoch")
    checkpoint_epoch = epoch + 1 if isinstance(epoch, int) and epoch >= 0 else None
    if checkpoint_epoch is None:  # one of our published parents: its source epoch is recorded
        checkpoint_epoch = (saved.get("vigifeu_source") or {}).get("epoch")
    parent = work_dir / f"{stem}-fp32.pt"
    source = {"checkpoint": str(checkpoint), "epoch": checkpoint_epoch}
    strip_optimizer(str(checkpoint), str(parent), updates={"vigifeu_source": source})
    size = InputSize.of(image_size)
    imgsz = size.width_px if size.is_square else [size.height_px, size.width_px]
    with warnings.catch_warnings():
        # torch >= 2.9 deprecates the TorchScript exporter that ultralytics calls and warns from
        # inside it, and tracing warns on the head's shape checks (static shapes: harmless);
        # nothing here can act on either until ultralytics moves on.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        exported = YOLO(str(parent)).export(
            format="onnx",
            imgsz=imgsz,
            opset=opset,
            simplify=True,
            dynamic=False,
            batch=1,
            device="cpu",
        )
    onnx_path = Path(exported)
    if onnx_path != parent.with_suffix(".onnx"):
        shutil.move(onnx_path, parent.with_suffix(".onnx"))
    _rewrite_for_onnxruntime(parent.with_suffix(".onnx"))
    return parent, parent.with_suffix(".onnx"), checkpoint_epoch


def _rewrite_for_onnxruntime(path: Path) -> None:
    import onnx

    from vigifeu.training.graph import last_axis_dfl

    model = onnx.load(path)
    rewritten = last_axis_dfl(model)
    if rewritten:
        onnx.checker.check_model(model)
        onnx.save(model, path)
    logger.info("%s: %d DFL decode(s) rewritten to a last-axis softmax", path.name, rewritten)


def export_model(plan: ExportPlan) -> ExportOutcome:
    """Export, quantize, evaluate and gate, all inside ``plan.work_dir``; check ``.passed``.

    INT8 variants are tried in ``plan.tries`` order until one passes the gate; every try is
    recorded in ``outcome.tries``.
    """
    from vigifeu.training.quantize import pick_calibration_frames, quantize_int8

    plan.work_dir.mkdir(parents=True, exist_ok=True)
    parent, fp32, epoch = export_fp32(
        plan.checkpoint, plan.image_size, plan.work_dir, plan.stem, plan.opset
    )
    frames = pick_calibration_frames(plan.calibration_datasets, plan.calibration_frames, plan.seed)
    int8 = plan.work_dir / f"{plan.stem}-int8.onnx"
    int8.unlink(missing_ok=True)
    outcome = ExportOutcome(
        plan,
        parent,
        fp32,
        int8,
        epoch,
        dict.fromkeys(("fp32", "int8"), plan.score_threshold or DEFAULT_SCORE_THRESHOLD),
        0,
    )
    evaluate_fp32(outcome)
    for spec in plan.tries:
        method, _, scope = spec.partition(":")
        quantized = quantize_int8(
            fp32, int8, frames, method=method, float_scope=None if plan.whole_graph else scope
        )
        outcome.excluded_nodes = len(quantized.excluded_nodes)
        passed = evaluate_int8(outcome)
        outcome.gate.update(
            calibration=method,
            float_scope=quantized.float_scope,
            calibration_frames=quantized.calibration_frames,
        )
        outcome.tries.append(dict(outcome.gate))
        logger.log(
            logging.INFO if passed else logging.WARNING,
            "gate on %s %s AP50 with %s: FP32 %.4f, INT8 %.4f (max drop %.3f) -> %s",
            outcome.gate["set"],
            GATE_CLASS,
            spec,
            outcome.gate["fp32_ap50"],
            outcome.gate["int8_ap50"],
            plan.max_ap50_drop,
            "pass" if passed else "refused",
        )
        if passed:
            break
    if not outcome.passed:
        logger.error("no INT8 variant passed the gate: nothing published")
    return outcome


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="ultralytics .pt")
    parser.add_argument(
        "--name", help="registry name stem (default: the recipe file's stem, e.g. smoke-fire-v2)"
    )
    parser.add_argument("--version", required=True, help="e.g. 1.0-e12 (goes into file names)")
    parser.add_argument(
        "--recipe",
        type=Path,
        help="the recipe of a checkpoint outside a training run folder; a run's checkpoint is "
        "exported with the recipe its run.json records",
    )
    parser.add_argument(
        "--input-size",
        "--image-size",
        type=parse_input_size,
        help="static model input WIDTHxHEIGHT, e.g. 640x480 for 4:3 cameras, or one side for a "
        "square (default: the recipe's image_size, square)",
    )
    parser.add_argument("--opset", type=int, help="ONNX opset (default: ultralytics' choice)")
    parser.add_argument(
        "--val",
        action="append",
        help="LABEL=DATA_YAML[:SPLIT], repeatable; the first is the gate set "
        f"(default: {' and '.join(DEFAULT_VAL)})",
    )
    parser.add_argument(
        "--calibration",
        type=Path,
        action="append",
        help="YOLO dataset whose train split gives calibration frames (repeatable)",
    )
    parser.add_argument("--calibration-frames", type=int, default=200)
    parser.add_argument(
        "--tries",
        default=",".join(DEFAULT_TRIES),
        help="INT8 variants CALIBRATION:FLOAT_SCOPE tried in order until one passes the gate; "
        "calibrations percentile, minmax-ema, minmax, entropy; scopes decode, stem, classes, head",
    )
    parser.add_argument(
        "--score-threshold", type=float, help="default: each model's best smoke F1 on the gate set"
    )
    parser.add_argument("--iou-threshold", type=float, default=0.45, help="NMS IoU")
    parser.add_argument("--max-ap50-drop", type=float, default=0.01)
    parser.add_argument("--work-dir", type=Path, help="default: runs/export/NAME-VERSION")
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=Path("models"),
        help="where the files, cards and registry.yaml go (a scratch folder keeps experiments "
        "out of models/registry.yaml)",
    )
    parser.add_argument("--run-dir", type=Path, help="training run folder (run.json, results.csv)")
    parser.add_argument("--set-default", action="store_true", help="make the INT8 model default")
    parser.add_argument("--no-publish", action="store_true", help="gate only, write no models/")
    parser.add_argument("--val-limit", type=int, help="first N val images only (smoke tests)")
    parser.add_argument("--card-note", help="a paragraph for the cards, e.g. why this checkpoint")


def guess_run_dir(checkpoint: Path) -> Path | None:
    """``<run>/train/weights/best.pt`` -> ``<run>`` when it holds ``vigifeu train``'s run.json."""
    parents = checkpoint.resolve().parents
    if len(parents) > 2 and (parents[2] / RUN_FILE).is_file():
        return parents[2]
    return None


def checkpoint_recipe(run_dir: Path | None, given: Path | None) -> RunRecipe:
    """The recipe a checkpoint was trained with: its run's, when it comes from a run folder
    (a ``--seed`` run differs from its file), else ``given``."""
    if run_dir is None:
        if given is None:
            raise ValueError("the checkpoint is in no `vigifeu train` run folder: give --recipe")
        return RunRecipe(load_recipe(given), given)
    ran = run_recipe(run_dir)
    if given is not None and load_recipe(given) != ran.recipe:
        logger.warning(
            "%s was trained with %s as run.json records it, not %s: exporting with the former",
            run_dir,
            ran.recipe_file,
            given,
        )
    return ran


def run(args: argparse.Namespace) -> int:
    from vigifeu.training.publish import publish, write_outcome

    run_dir = args.run_dir or guess_run_dir(args.checkpoint)
    try:
        recipe, recipe_file = checkpoint_recipe(run_dir, args.recipe)
    except ValueError as error:
        logger.error("%s: %s", args.checkpoint, error)
        return 2
    name = args.name or recipe_file.stem
    plan = ExportPlan(
        checkpoint=args.checkpoint,
        name=name,
        version=args.version,
        image_size=args.input_size or recipe.image_size,
        work_dir=args.work_dir or Path("runs/export") / f"{name}-{args.version}",
        val_sets=tuple(ValSet.parse(spec) for spec in (args.val or DEFAULT_VAL)),
        calibration_datasets=tuple(args.calibration or DEFAULT_CALIBRATION),
        calibration_frames=args.calibration_frames,
        tries=tuple(filter(None, args.tries.split(","))),
        seed=recipe.seed,
        score_threshold=args.score_threshold,
        iou_threshold=args.iou_threshold,
        max_ap50_drop=args.max_ap50_drop,
        val_limit=args.val_limit,
        run_dir=run_dir,
        opset=args.opset,
        card_note=args.card_note,
    )
    outcome = export_model(plan)
    write_outcome(outcome, plan.work_dir / "export.json")
    if not outcome.passed:
        return 3
    if args.no_publish:
        logger.info("gate passed; --no-publish: models stay in %s", plan.work_dir)
        return 0
    written = publish(outcome, args.models_dir, recipe, set_default=args.set_default)
    for path in written:
        print(f"published {path}")  # noqa: T201 - command output
    return 0
