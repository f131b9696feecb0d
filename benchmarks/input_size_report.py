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
    """AP50 of each class against p50 inference ms, one labelled point per setting (smoke with
    its 95% bootstrap interval)."""
    figure = new_figure(7.0, 4.5)
    axes = figure.add_subplot(1, 1, 1)
    rows = [row for row in metrics["settings"] if row["inference_ms_p50"] is not None]
    for name, (colour, marker) in CLASS_MARKERS.items():
        shown = [row for row in rows if row["classes"].get(name, {}).get("ap50") is not None]
        if not shown:
            continue
        ms, ap50, below, above = [], [], [], []
        for row in shown:
            figures = row["classes"][name]
            low, high = figures.get("ap50_ci95") or (figures["ap50"], figures["ap50"])
            ms.append(row["inference_ms_p50"])
            ap50.append(figures["ap50"])
            below.append(figures["ap50"] - low)
            above.append(high - figures["ap50"])
            axes.annotate(
                row["label"],
                (ms[-1], ap50[-1]),
                textcoords="offset points",
                xytext=(5, 4),
                fontsize=8,
            )
        axes.errorbar(
            ms, ap50, yerr=[below, above], fmt=marker, color=colour, capsize=3, label=f"{name} AP50"
        )
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
                _flagged(row["negatives"]),
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
    "negatives flagged",
)


def _flagged(negatives: dict[str, int]) -> str | None:
    if not negatives["images"]:
        return None
    return f"{negatives['with_detection']}/{negatives['images']}"


def frame_sizes_text(frame_sizes: dict[str, int]) -> str:
    """'126 x 640x480 px', or a summary when the frames come in many sizes."""
    if len(frame_sizes) <= 3:
        return ", ".join(f"{count} x {size}" for size, count in frame_sizes.items()) + " px"
    long_sides = sorted(
        max(int(side) for side in size.split("x"))
        for size, count in frame_sizes.items()
        for _ in range(count)
    )
    common, count = max(frame_sizes.items(), key=lambda item: (item[1], item[0]))
    return (
        f"{len(frame_sizes)} frame sizes, long side {long_sides[0]}–{long_sides[-1]} px "
        f"(median {long_sides[len(long_sides) // 2]}), most common {count} x {common}"
    )


def report_markdown(metrics: dict[str, Any], command: str) -> str:
    first = metrics["settings"][0]
    small_boxes = first["classes"]["smoke"].get("small_boxes")
    rule = metrics["rule"]
    choice = metrics["choice"] or "none (no smoke box in the split)"
    return "\n".join(
        [
            f"# Input size: {Path(metrics['checkpoint']).name} on {metrics['data']} "
            f"({metrics['split']})",
            "",
            f"Command: `{command}`",
            "",
            f"{metrics['images']} images ({frame_sizes_text(metrics['frame_sizes'])}), operating score {metrics['threshold']:g} "
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
            "compare with each other, not with other runs. 'negatives flagged': images without a "
            "box that get a detection at the operating score. Each size is a static FP32 ONNX "
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
