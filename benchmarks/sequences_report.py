"""Outputs of ``bench sequences``: metrics.json, report.md and one score/alert timeline per sequence."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from benchmarks.report import fmt, markdown_table, plot_score_timeline, write_json
from benchmarks.sequences import FrameOutcome, Timeline
from edge.config import Thresholds


def plot_name(sequence_id: str) -> str:
    return "timeline_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", sequence_id) + ".png"


def plot_timeline(
    timeline: Timeline, outcomes: list[FrameOutcome], thresholds: Thresholds, path: Path
) -> None:
    """Best score per frame and class against minutes from onset, alerts as vertical lines."""
    onset = next((o.frame for o in outcomes if o.frame.smoke_expected), outcomes[0].frame)
    minutes = [(o.frame.captured_at - onset.captured_at).total_seconds() / 60 for o in outcomes]
    plot_score_timeline(
        minutes,
        {name: [o.max_scores.get(name, 0.0) for o in outcomes] for name in ("smoke", "fire")},
        [
            (m, transition.state.value)
            for m, outcome in zip(minutes, outcomes, strict=True)
            for transition in outcome.transitions
        ],
        floor=thresholds.detection_score,
        title=timeline.sequence_id,
        xlabel="minutes from the first frame with smoke expected",
        path=path,
        expected=[o.frame.smoke_expected for o in outcomes],
    )


def report_markdown(metrics: dict[str, Any], command: str) -> str:
    rows = [
        [
            s["id"],
            s["frames"],
            s["positive_frames"],
            fmt(s["ttd_s"], 0),
            s["first_alert_frame"],
            s["false_alarms"],
            "yes" if s["open_at_onset"] else "no",
        ]
        for s in metrics["sequences"]
    ]
    thresholds = metrics["thresholds"]
    plots = [f"![{s['id']}]({plot_name(s['id'])})" for s in metrics["sequences"]]
    return "\n".join(
        [
            f"# Sequences: {metrics['model']['name']}",
            "",
            f"Command: `{command}`",
            "",
            f"Detected {metrics['detected']} of {metrics['with_smoke']} sequences with smoke "
            f"({metrics['total']} in all); mean time to detection "
            f"{_seconds(metrics['mean_ttd_s'])}, median {_seconds(metrics['median_ttd_s'])}; "
            f"false alarms {metrics['false_alarms']}.",
            "",
            "Confirmation: "
            + ", ".join(f"{key} {value}" for key, value in thresholds.items())
            + ".",
            "",
            markdown_table(
                [
                    "sequence",
                    "frames",
                    "smoke frames",
                    "TTD (s)",
                    "alert frame",
                    "false alarms",
                    "open at onset",
                ],
                rows,
            ),
            "",
            "TTD counts from the first frame labelled `smoke_expected=1` (the reported ignition; "
            "smoke may not be visible yet) to the first alert start on such a frame.",
            "",
            *plots,
            "",
        ]
    )


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} s"


def write_outputs(
    metrics: dict[str, Any],
    timelines: list[Timeline],
    outcomes: dict[str, list[FrameOutcome]],
    thresholds: Thresholds,
    out: Path,
    command: str,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", metrics)
    for timeline in timelines:
        if outcomes[timeline.sequence_id]:
            plot_timeline(
                timeline,
                outcomes[timeline.sequence_id],
                thresholds,
                out / plot_name(timeline.sequence_id),
            )
    (out / "report.md").write_text(report_markdown(metrics, command), encoding="utf-8")
