"""The model card (``models/cards/<name>.md``) of an exported model: what it is, what it was trained
on and under which licence, how well it does on val through the edge path, and what it cannot do."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx

from edge.detect.preprocess import InputSize
from edge.detect.registry import RegisteredModel
from vigifeu.training.recipe import Recipe

if TYPE_CHECKING:
    from vigifeu.training.export import ExportOutcome
    from vigifeu.training.publish import Provenance

FLOAT_SCOPE_TEXT = {
    "decode": "the Detect-head decode (DFL, grid, sigmoid, concat)",
    "stem": "the Detect-head decode and the backbone's first three modules (/model.0-2/)",
    "classes": "the Detect-head decode and its class-score branch (cv3)",
    "head": "the whole Detect head",
}
LIMITATIONS = (
    "Val sets are small (126 lookout frames from 3 unseen camera views; 63 fire images; 122 "
    "sky photos): one AP50 point is about one plume. Differences under ~3 points are noise.",
    "Lookout training frames are all HPWREN (Southern California chaparral, mostly clear "
    "summer days). Mediterranean hillsides, sea haze, low cloud in valleys, snow and dust are "
    "unseen: expect more false alarms there until local negatives are added.",
    "Fire boxes come from web and stock pictures (close range, many aerial); flames seen by a "
    "lookout camera are far smaller. The fire AP does not measure lookout performance.",
    "No night or IR frames were labelled: do not trust night-time scores.",
    "Single-frame detector: the edge confirms over several frames before alerting, so the "
    "per-frame false-alarm rate here is an upper bound of the alert false-alarm rate.",
    "INT8 speed depends on the CPU's int8 instructions (VNNI/AMX here); re-measure on the edge "
    "box, where FP32 may be as fast (e.g. Raspberry Pi 4).",
)


def parameter_count(onnx_path: Path) -> int:
    model = onnx.load(str(onnx_path), load_external_data=False)
    return sum(int(np.prod(init.dims)) for init in model.graph.initializer)


def _number(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def metrics_section(outcome: ExportOutcome) -> list[str]:
    lines = []
    for label in next(iter(outcome.metrics.values()), {}):
        lines += ["", f"### {label}", ""]
        lines += [
            "| model | class | boxes | AP50 | AP50-95 | P | R | F1 |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for kind, per_set in outcome.metrics.items():
            doc = per_set[label]
            for name, c in doc["classes"].items():
                if not c["boxes"]:
                    continue
                values = (c[k] for k in ("boxes", "ap50", "ap50_95", "precision", "recall", "f1"))
                lines.append(f"| {kind} | {name} | " + " | ".join(map(_number, values)) + " |")
        negatives = {kind: per_set[label]["negatives"] for kind, per_set in outcome.metrics.items()}
        if any(n["images"] for n in negatives.values()):
            lines.append("")
            lines += [
                f"Negative images with a detection at the operating threshold ({kind}): "
                f"{n['with_detection']} of {n['images']} "
                f"({100 * n['with_detection'] / n['images']:.1f} %)."
                for kind, n in negatives.items()
                if n["images"]
            ]
    return lines


def export_size_note(size: InputSize, trained_px: Any) -> str:
    """A sentence when the exported input is not the training square (e.g. 640x480 at 640)."""
    if not isinstance(trained_px, int) or size == InputSize.of(trained_px):
        return ""
    share = size.width_px * size.height_px / trained_px**2
    return (
        f" Exported with a static {size} (width x height) input, not the {trained_px} px "
        f"training square: a frame of that aspect fills it without padding, {share:.2f}x the "
        "square's pixels to compute."
    )


def status_line(provenance: Provenance, recipe: Recipe) -> str:
    done = provenance.epochs_completed
    at = provenance.checkpoint_epoch
    planned = provenance.run.get("recipe", {}).get("epochs", recipe.epochs)
    if done is None:
        return "Training history unknown (no run folder given to the export)."
    text = f"Checkpoint saved at epoch {at if at is not None else '?'}; "
    text += f"{done} of {planned} planned epochs had completed when it was exported."
    if done < planned:
        text += " **Interim model**: the run was still going; a later checkpoint should replace it."
    return text


def render_card(
    entry: RegisteredModel,
    entries: dict[str, RegisteredModel],
    outcome: ExportOutcome,
    recipe: Recipe,
    provenance: Provenance,
    *,
    is_int8: bool,
    curves: str | None = None,
) -> str:
    plan = outcome.plan
    size = plan.input_size
    fp32, int8 = entries["fp32"], entries["int8"]
    transfer = provenance.run.get("transfer", {})
    run_recipe = provenance.run.get("recipe", recipe.model_dump())
    init = str(run_recipe.get("init"))
    init_text = (
        f"COCO YOLOv5n (`yolov5n.pt`, GPL-3.0): {transfer.get('transferred')} of "
        f"{transfer.get('target_tensors')} tensors transferred (everything but the Detect head)"
        if init == "coco-yolov5n"
        else "random (from scratch)"
    )
    gate = outcome.gate
    latency = outcome.latency
    score_origin = (
        "this model's best smoke F1 on the gate set, grid from 0.01"
        if plan.score_threshold is None
        else "given at export: --score-threshold"
    )
    lines = [
        f"# Model card: {entry.name} ({entry.version})",
        "",
        "| | |",
        "|---|---|",
        f"| file | `{entry.file}` (sha256 `{entry.sha256}`) |",
        f"| format | {'ONNX INT8: static QDQ, per-channel QInt8 weights, QUInt8 activations, a few modules in float (below)' if is_int8 else 'ONNX FP32, static shapes, opset from ultralytics, onnxslim'} |",
        f"| input / output | `images` 1x3x{size.height_px}x{size.width_px} (N x C x H x W) RGB 0..1, letterboxed (grey 114); `output0` (1, 6, N): cx, cy, w, h (input px), smoke, fire |",
        f"| parent | `{entry.parent}` |",
        "| classes | 0 smoke, 1 fire |",
        f"| operating thresholds | score {entry.thresholds.score:.2f} ({score_origin}), NMS IoU {entry.thresholds.iou:.2f} |",
        f"| licence | {entry.licence} |",
        "",
        status_line(provenance, recipe),
        *(["", outcome.plan.card_note] if outcome.plan.card_note else []),
        "",
        *([f"![Training curves]({curves})", ""] if curves else []),
        "## Architecture and initialisation",
        "",
        f"ultralytics `{run_recipe.get('architecture')}` (YOLOv5n backbone with the anchor-free, "
        f"DFL head of ultralytics), {parameter_count(outcome.fp32) / 1e6:.2f} M parameters. "
        f"Initialisation: {init_text}.",
        "",
        "## Training data and licences",
        "",
        f"{entry.training_data}.",
        "",
        f"Licence: {entry.licence}."
        + (
            " Models trained on CC BY-NC-SA 4.0 data inherit that licence (non-commercial, "
            "share-alike): this model may not ship in a commercial product without the rights "
            "holders' agreement."
            if "NC-SA" in entry.licence
            else ""
        ),
        "",
        "## Recipe",
        "",
        f"`{provenance.run.get('recipe_file', 'models/recipes/smoke-fire-v1.yaml')}`: "
        + ", ".join(
            f"{k} {run_recipe.get(k)}"
            for k in ("image_size", "epochs", "batch", "optimizer", "lr0", "seed", "close_mosaic")
        )
        + "; augmentations "
        + ", ".join(f"{k} {v}" for k, v in (run_recipe.get("augment") or {}).items())
        + f". Device: {provenance.run.get('device', '?')}."
        + export_size_note(size, run_recipe.get("image_size")),
        "",
        "## Validation through the edge inference path",
        "",
        "`benchmarks.accuracy` (the edge `OnnxDetector`: letterbox, ONNX Runtime, decode, NMS); "
        "AP the COCO way; P/R/F1 at each model's operating threshold "
        f"(FP32 {fp32.thresholds.score:.2f}, INT8 {int8.thresholds.score:.2f}), IoU 0.5.",
        *metrics_section(outcome),
        "",
        "## INT8 against FP32",
        "",
        f"Gate: {gate['class']} AP50 on {gate['set']}: FP32 {gate['fp32_ap50']:.4f}, INT8 "
        f"{gate['int8_ap50']:.4f} (refused if more than {gate['max_drop']:.3f} lower): "
        f"{'passed' if gate['passed'] else 'REFUSED'}. Calibration: "
        f"{gate.get('calibration_frames')} letterboxed training frames (1/3 smoke, 1/6 fire, "
        f"rest empty views), {gate.get('calibration')} calibration, kept in float: "
        f"{FLOAT_SCOPE_TEXT.get(str(gate.get('float_scope')), 'nothing')} "
        f"({outcome.excluded_nodes} nodes)."
        + (
            " Refused before it: "
            + ", ".join(
                f"{t['calibration']}/{t['float_scope']} INT8 {t['int8_ap50']:.4f}"
                for t in outcome.tries[:-1]
            )
            + "."
            if len(outcome.tries) > 1
            else ""
        ),
        "",
        "| model | inference ms (median) | frame total ms | threads |",
        "|---|---|---|---|",
        *(
            f"| {kind} | {latency[kind]['inference_ms']} | {latency[kind]['total_ms']} | "
            f"{latency[kind]['threads']} |"
            for kind in ("fp32", "int8")
            if kind in latency
        ),
        "",
        f"Measured on the export machine ({latency.get('int8', {}).get('runs')} runs on one "
        "val frame, shared CPU); the benchmark harness (`vigifeu bench speed`) gives the "
        "reference numbers.",
        "",
        "## Known limitations",
        "",
        *(f"- {item}" for item in LIMITATIONS),
        "",
        "## Reproduce",
        "",
        "See models/README.md: `vigifeu train` with the recipe above, then `vigifeu export` "
        f"with `--version {entry.version}`. Siblings: `{fp32.name}` (FP32), `{int8.name}` (INT8).",
        "",
    ]
    return "\n".join(lines)
