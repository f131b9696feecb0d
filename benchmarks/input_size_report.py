"""Outputs of ``bench input-size``: metrics.json, report.md and AP50 against milliseconds."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from benchmarks.report import fmt, markdown_table, new_figure, save_figure, write_json

logger = logging.getLogger(__name__)

PLOT = "ap50_vs_ms.png"
CLASS_MARKERS = {"smoke": ("tab:blue", "o"), "fire": ("tab:purple", "s")}


def plot_ap50_vs_ms(metrics: dict[str, Any], path: Path) -> None:
    """AP50 of each class against p50 inference ms, one labelled point per setting."""
    figure = new_figure(7.0, 4.5)
    axes = figure.add_subplot(1, 1, 1)
    rows = [row for row in metrics["settings"] if row["inference_ms_p50"] is not None]
    for name, (colour, marker) in CLASS_MARKERS.items():
        points = [
            (row["inference_ms_p50"], row["classes"][name]["ap50"], row["label"])
            for row in rows
            if row["classes"].get(name, {}).get("ap50") is not None
        ]
        if not points:
            continue
        axes.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker=marker,
            color=colour,
            ls=":",
            label=f"{name} AP50",
        )
        for ms, ap50, label in points:
            axes.annotate(label, (ms, ap50), textcoords="offset points", xytext=(4, 4), fontsize=8)
    chosen = [row for row in rows if row["label"] == metrics["choice"]]
    for row in chosen:
        axes.plot(
            row["inference_ms_p50"],
            row["classes"]["smoke"]["ap50"],
            marker="o",
            ms=14,
            mfc="none",
            color="tab:red",
            ls="",
            label="choice",
        )
    axes.set(
        xlabel=f"p50 inference ms per frame ({metrics['threads']} threads)",
        ylabel="AP50",
        title=f"{Path(metrics['data']).parent.name} {metrics['split']}: AP50 against cost",
    )
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    save_figure(figure, path)


def table_rows(metrics: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for row in metrics["settings"]:
        smoke, fire = row["classes"]["smoke"], row["classes"].get("fire", {})
        interval = smoke.get("ap50_ci95")
        rows.append(
            [
                f"**{row['label']}**" if row["label"] == metrics["choice"] else row["label"],
                smoke["ap50"],
                f"{interval[0]:.3f}–{interval[1]:.3f}" if interval else None,
                row["smoke_ap50_gap_to_best"],
                smoke.get("ap50_95"),
                smoke.get("recall"),
                smoke.get("small_recall"),
                fire.get("ap50"),
                fmt(row["inference_ms_p50"], 1),
                fmt(row["total_ms_p50"], 1),
                row["smoke_ap50_per_100ms"],
            ]
        )
    return rows


HEADERS = (
    "setting",
    "smoke AP50",
    "95% interval",
    "best ahead by (95%)",
    "smoke AP50-95",
    "smoke recall",
    "small smoke recall",
    "fire AP50",
    "p50 inference ms",
    "p50 total ms",
    "smoke AP50 per 100 ms",
)


def report_markdown(metrics: dict[str, Any], command: str) -> str:
    first = metrics["settings"][0]
    small_boxes = first["classes"]["smoke"].get("small_boxes")
    sizes = ", ".join(f"{count} x {size}" for size, count in metrics["frame_sizes"].items())
    rule = metrics["rule"]
    choice = metrics["choice"] or "none (no smoke box in the split)"
    return "\n".join(
        [
            f"# Input size: {Path(metrics['checkpoint']).name} on {metrics['data']} "
            f"({metrics['split']})",
            "",
            f"Command: `{command}`",
            "",
            f"{metrics['images']} images ({sizes} px), operating score {metrics['threshold']:g} "
            f"(from {metrics['operating_point_from'] or 'the unregistered default'}), "
            f"NMS IoU {metrics['iou']:g}, {metrics['threads']} onnxruntime threads. Recall at "
            f"the operating score and IoU 0.5; small smoke: boxes under "
            f"{metrics['small_box_max_area']:.0%} of the frame ({small_boxes} boxes).",
            "",
            markdown_table(HEADERS, table_rows(metrics)),
            "",
            f"**Choice: {choice}** (best smoke AP50: {metrics['best']}). Rule: {rule['text']} "
            f"({rule['tolerance'] * 100:g} AP50 point, {rule['bootstrap_rounds']} rounds), "
            f"cost = {rule['cost']}. 'best ahead by (95%)' is that percentile of (best AP50 - "
            "this AP50): at most the tolerance keeps a setting in the race.",
            "",
            "Settings ran interleaved frame by frame in one process, so their milliseconds "
            "compare with each other, not with other runs. Each size is a static FP32 ONNX "
            "export of the checkpoint, run through the edge detector (letterbox, decode, NMS); "
            "'2x2 tiles' is the edge's tiles=2 mode (whole frame + four tiles of 60% of each "
            "side, merged by NMS).",
            "",
            f"![AP50 against milliseconds]({PLOT})",
            "",
        ]
    )


def write_outputs(metrics: dict[str, Any], out: Path, command: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", metrics)
    plot_ap50_vs_ms(metrics, out / PLOT)
    (out / "report.md").write_text(report_markdown(metrics, command), encoding="utf-8")
    logger.info("input-size report written to %s (choice: %s)", out, metrics["choice"])
