"""Outputs of ``bench speed``: metrics.json, report.md and a per-stage latency chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report import fmt, markdown_table, new_figure, save_figure, write_json
from benchmarks.speed import STAGES


def plot_stages(metrics: dict[str, Any], path: Path) -> None:
    """Stacked p50 ms per stage for each path that ran, frames/s written on each bar."""
    ran = {name: result for name, result in metrics["paths"].items() if "stages" in result}
    figure = new_figure(8.0, 4.0)
    axes = figure.add_subplot(1, 1, 1)
    names = list(ran)
    bottom = np.zeros(len(names))
    for stage in STAGES:
        values = np.array([ran[name]["stages"][stage]["p50_ms"] for name in names])
        axes.bar(names, values, bottom=bottom, label=stage)
        bottom += values
    for x, name in enumerate(names):
        axes.annotate(f"{ran[name]['fps']:.1f} fps", (x, bottom[x]), ha="center", va="bottom")
    axes.set(ylabel="p50 ms per frame (stages stacked)", title="Latency per stage, batch 1")
    axes.legend(fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    save_figure(figure, path)


def _stage_cell(result: dict[str, Any], stage: str) -> str:
    if "stages" not in result:
        return "–"
    values = result["stages"][stage]
    return f"{values['p50_ms']:.1f} / {values['p95_ms']:.1f}"


def _imgsz(result: dict[str, Any]) -> str:
    imgsz = result.get("imgsz")
    return f" at imgsz=({imgsz[0]}, {imgsz[1]})" if imgsz else ""


def input_lines(metrics: dict[str, Any]) -> list[str]:
    """What each path fed its network, and a warning for a path that computed another size."""
    ran = {name: result for name, result in metrics["paths"].items() if "input_px" in result}
    model = metrics["input_size"]
    lines = [
        "Network input (width x height) on the first frame: "
        + "; ".join(f"{name} {result['input_px']}{_imgsz(result)}" for name, result in ran.items())
        + f". The model's static input is {model}; vigifeu letterboxes every frame into it, "
        "ultralytics' imgsz is (height, width): its ONNX paths take the one in the file's export "
        "metadata, and its PyTorch "
        "path gets the model's size as imgsz and letterboxes to the smallest multiple of 32 "
        "that holds the frame."
    ]
    other_size = [name for name, result in ran.items() if result["input_px"] != model]
    if other_size:
        lines.append(
            f"{', '.join(other_size)} computed a different tensor than the model's {model}: the "
            "ratios against it compare different amounts of work (GFLOP/s below are counted at "
            "each path's own pixels)."
        )
    return lines


def report_markdown(metrics: dict[str, Any], command: str) -> str:
    paths = metrics["paths"]
    rows = []
    for name, result in paths.items():
        if "skipped" in result:
            rows.append([name, f"skipped: {result['skipped']}", *["–"] * 11])
            continue
        rows.append(
            [
                name,
                result.get("input_px", "–"),
                fmt(result["fps"], 1),
                f"{result['p50_ms']:.1f} / {result['p95_ms']:.1f}",
                *(_stage_cell(result, stage) for stage in STAGES),
                fmt(result["pre_post_over_inference"], 2),
                fmt(result["achieved_gflops_per_s"], 1),
                fmt(result["cpu_ms_per_frame"], 1),
                fmt(result["cameras_per_core_at_10s"], 0),
                fmt(result["peak_rss_mb"], 0),
            ]
        )
    target_rows = [
        [
            key,
            f"{check.get('comparison', '>=')} {check['target']}",
            fmt(check["value"], 2),
            {True: "met", False: "NOT met", None: "not measured"}[check["met"]],
        ]
        for key, check in metrics["targets"].items()
    ]
    machine = metrics["machine"]
    return "\n".join(
        [
            "# Speed: edge path against the baselines",
            "",
            f"Command: `{command}`",
            "",
            f"{metrics['frames']} frames x {metrics['rounds']} rounds per path, interleaved in "
            f"chunks; batch 1, model input {metrics['input_size']} px (width x height), "
            f"{metrics['threads']} threads "
            f"(onnxruntime intra-op for vigifeu, torch for ultralytics PyTorch; ultralytics ONNX "
            f"uses onnxruntime's default, one thread per core). Machine: {machine['cpus']} CPUs, "
            f"{machine['cpu']}. Model FLOPs: {fmt(metrics['gflops_per_frame'], 2)} GFLOPs per "
            "frame (Conv/MatMul of the ONNX graph, x2 MACs).",
            "",
            markdown_table(
                [
                    "path",
                    "input W x H",
                    "frames/s",
                    "end to end p50 / p95 ms",
                    *(f"{stage} p50 / p95 ms" for stage in STAGES),
                    "(pre + post) / inference",
                    "achieved GFLOP/s",
                    "CPU ms / frame",
                    "cameras / core at 10 s",
                    "peak RSS MB",
                ],
                rows,
            ),
            "",
            "Files: "
            + "; ".join(
                f"{name} `{result['model']}`"
                + (f" ({result['note']})" if result.get("note") else "")
                for name, result in paths.items()
                if "model" in result
            )
            + ". ultralytics cannot write an INT8 ONNX: ultralytics_onnx runs the FP32 export "
            "its users deploy (the target), ultralytics_onnx_int8 the same INT8 file as vigifeu "
            "(same graph and kernels: the gap is only the pre- and postprocessing).",
            "",
            *input_lines(metrics),
            "",
            markdown_table(["target", "wanted", "measured", "status"], target_rows),
            "",
            "Ratios (INT8 frames/s over each path's): "
            + ", ".join(f"{key} {fmt(value, 2)}" for key, value in metrics["ratios"].items())
            + "; int8_vs_ultralytics_onnx_int8 has no target.",
            "",
            "frames/s = 1000 / mean end-to-end ms (decode + preprocess + inference + "
            "postprocess, one frame at a time). Ratios divide INT8 frames/s by the baseline's. "
            "CPU ms is process CPU time over all threads (onnxruntime's spinning threads included, "
            "so it overstates the cost slightly); cameras per core = 10 000 ms / CPU ms. Peak RSS "
            "is each path's own worker process, imports included (torch for ultralytics). "
            "Achieved GFLOP/s = the model's GFLOPs, scaled by the path's input pixels over the "
            "model's, per p50 inference second.",
            "",
            "![Latency per stage](speed.png)",
            "",
        ]
    )


def write_outputs(metrics: dict[str, Any], out: Path, command: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", metrics)
    plot_stages(metrics, out / "speed.png")
    (out / "report.md").write_text(report_markdown(metrics, command), encoding="utf-8")
