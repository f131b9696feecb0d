"""``vigifeu bench all``: the standard benchmark set on the shared data, then ``RESULTS.md``.

Each step is an ordinary ``vigifeu bench`` command line, parsed and run as typed, so the commands
written into RESULTS.md are exactly the ones that produced its figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.model import load_model, parent_model
from benchmarks.report import fmt, markdown_table

logger = logging.getLogger(__name__)


class BenchStepError(RuntimeError):
    """One step of ``bench all`` failed; its own error was logged."""


@dataclass(frozen=True, slots=True)
class Step:
    key: str  # output sub-folder
    argv: list[str]  # arguments after 'vigifeu bench'

    @property
    def command(self) -> str:
        return "vigifeu bench " + " ".join(self.argv)


def plan(
    shared: Path,
    model: str,
    fp32: str | None,
    registry: Path,
    out: Path,
    *,
    threads: int,
    speed_limit: int,
    speed_rounds: int,
) -> list[Step]:
    hpwren = shared / "datasets" / "wildfire_smoke_hpwren"
    extra = shared / "datasets" / "wildfire_extra"
    common = ["--registry", str(registry), "--threads", str(threads)]
    steps = [
        Step(
            f"accuracy_{label}{suffix}",
            [
                *("accuracy", "--data", str(data / "data.yaml"), "--split", "val"),
                *("--model", name, *common, "--out", str(out / f"accuracy_{label}{suffix}")),
            ],
        )
        for name, suffix in ((model, ""), *(((fp32, "_fp32"),) if fp32 else ()))
        for label, data in (("hpwren", hpwren), ("extra", extra))
    ]
    steps.append(
        Step(
            "sequences",
            [
                *("sequences", "--sequences", str(hpwren / "sequences" / "sequences.csv")),
                *("--model", model, *common, "--out", str(out / "sequences")),
            ],
        )
    )
    steps.append(
        Step(
            "speed",
            [
                *("speed", "--model", model, *common, "--images", str(hpwren / "images" / "val")),
                *("--limit", str(speed_limit), "--rounds", str(speed_rounds)),
                *("--out", str(out / "speed")),
            ],
        )
    )
    return steps


def run_step(step: Step) -> dict[str, Any]:
    from benchmarks import cli

    parser = argparse.ArgumentParser(prog="vigifeu bench")
    cli.add_arguments(parser)
    args = parser.parse_args(step.argv)
    logger.info("bench all: %s", step.command)
    if cli.run(args) != 0:
        raise BenchStepError(f"step {step.key} failed: {step.command}")
    result: dict[str, Any] = json.loads(
        (Path(args.out) / "metrics.json").read_text(encoding="utf-8")
    )
    return result


def run_all_benchmarks(
    *,
    shared: Path,
    model_name: str,
    registry: Path,
    out: Path,
    results: Path,
    threads: int,
    speed_limit: int,
    speed_rounds: int,
    command: str,
) -> None:
    model = load_model(model_name, registry)  # fails early, before any long step
    parent = parent_model(model)
    steps = plan(
        shared,
        model_name,
        parent.info.name if parent else None,
        registry,
        out,
        threads=threads,
        speed_limit=speed_limit,
        speed_rounds=speed_rounds,
    )
    metrics = {step.key: run_step(step) for step in steps}
    results.write_text(results_markdown(metrics, steps, command), encoding="utf-8")
    logger.info("bench all: %s refreshed", results)


def _git_commit() -> str:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return found.stdout.strip() or "unknown"


def _settings(thresholds: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in thresholds.items())


def _accuracy_rows(metrics: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for key, result in metrics.items():
        if not key.startswith("accuracy_"):
            continue
        for name, c in result["classes"].items():
            negatives = result["negatives"]
            rows.append(
                [
                    key.removeprefix("accuracy_"),
                    result["model"]["name"],
                    name,
                    c["boxes"],
                    c["ap50"],
                    c["ap50_95"],
                    c["precision"],
                    c["recall"],
                    c["f1"],
                    f"{negatives['with_detection']}/{negatives['images']}",
                ]
            )
    return rows


def _speed_rows(speed: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for name, path in speed["paths"].items():
        if "skipped" in path:
            rows.append([name, "skipped: " + path["skipped"], *["–"] * 7])
            continue
        stages = path["stages"]
        rows.append(
            [
                name,
                fmt(path["fps"], 1),
                f"{path['p50_ms']:.1f} / {path['p95_ms']:.1f}",
                fmt(stages["preprocess"]["p50_ms"], 2),
                fmt(stages["inference"]["p50_ms"], 1),
                fmt(stages["postprocess"]["p50_ms"], 2),
                fmt(path["achieved_gflops_per_s"], 1),
                fmt(path["cameras_per_core_at_10s"], 0),
                fmt(path["peak_rss_mb"], 0),
            ]
        )
    return rows


def results_markdown(metrics: dict[str, Any], steps: list[Step], command: str) -> str:
    sequences, speed = metrics["sequences"], metrics["speed"]
    gap = None
    if "accuracy_hpwren_fp32" in metrics:
        int8_ap = metrics["accuracy_hpwren"]["classes"]["smoke"]["ap50"]
        fp32_ap = metrics["accuracy_hpwren_fp32"]["classes"]["smoke"]["ap50"]
        gap = None if int8_ap is None or fp32_ap is None else 100 * (fp32_ap - int8_ap)
    sequence_rows = [
        [
            s["id"],
            s["frames"],
            fmt(s["ttd_s"], 0),
            s["false_alarms"],
            "yes" if s["open_at_onset"] else "no",
        ]
        for s in sequences["sequences"]
    ]
    target_rows = [
        [
            key,
            f"{check.get('comparison', '>=')} {check['target']}",
            fmt(check["value"], 2),
            {True: "met", False: "NOT met", None: "not measured"}[check["met"]],
        ]
        for key, check in speed["targets"].items()
    ]
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Refreshed by `make bench` (`{command}`) on "
            f"{datetime.now(UTC):%Y-%m-%d}, commit `{_git_commit()}`; model "
            f"`{metrics['accuracy_hpwren']['model']['name']}` (sha256 "
            f"`{metrics['accuracy_hpwren']['model']['sha256'][:12]}…`). Per-run reports with plots "
            "are in the output folder of each command below.",
            "",
            "## Per-frame accuracy (val splits)",
            "",
            markdown_table(
                [
                    "data",
                    "model",
                    "class",
                    "boxes",
                    "AP50",
                    "AP50-95",
                    "P",
                    "R",
                    "F1",
                    "negatives with a detection",
                ],
                _accuracy_rows(metrics),
            ),
            "",
            f"P/R/F1 at the model's operating threshold "
            f"({metrics['accuracy_hpwren']['threshold']:g}). INT8 smoke AP50 below its FP32 "
            f"parent on hpwren val: {fmt(gap, 2)} points (target <= 1).",
            "",
            "## Time to detection (replayed timelines)",
            "",
            f"{sequences['detected']} of {sequences['with_smoke']} sequences with smoke detected; "
            f"false alarms: {sequences['false_alarms']}; TTD counted from the reported ignition "
            f"(`smoke_expected=1`), confirmation {_settings(sequences['thresholds'])}. The "
            "pre-ignition frames of the shared FIgLib timeline are training negatives of the "
            "shipped model, so its false-alarm count there is optimistic.",
            "",
            markdown_table(
                ["sequence", "frames", "TTD (s)", "false alarms", "open at onset"], sequence_rows
            ),
            "",
            "## Speed (one run, paths interleaved)",
            "",
            f"{speed['frames']} frames x {speed['rounds']} rounds, batch 1, input "
            f"{speed['input_size']} px, {speed['threads']} threads, {speed['machine']['cpus']} CPUs "
            f"({speed['machine']['cpu']}); model {fmt(speed['gflops_per_frame'], 2)} GFLOPs/frame.",
            "",
            markdown_table(
                [
                    "path",
                    "frames/s",
                    "end to end p50 / p95 ms",
                    "pre p50",
                    "inference p50",
                    "post p50",
                    "GFLOP/s",
                    "cameras/core at 10 s",
                    "peak RSS MB",
                ],
                _speed_rows(speed),
            ),
            "",
            markdown_table(["target", "wanted", "measured", "status"], target_rows),
            "",
            "## Commands",
            "",
            "```",
            *(step.command for step in steps),
            "```",
            "",
        ]
    )
