"""Training report: the curves of ultralytics' ``results.csv`` as one PNG.

ultralytics only draws its own ``results.png`` when a run finishes; this report can be drawn at
any time (mid-run too) and groups the curves the way we read them: losses (train dashed, val
solid), val detection metrics, learning rate. Uses matplotlib's object API (no pyplot, no
display needed).
"""

from __future__ import annotations

import csv
from pathlib import Path

from matplotlib.figure import Figure

LOSSES = ("box_loss", "cls_loss", "dfl_loss")
METRICS = ("precision(B)", "recall(B)", "mAP50(B)", "mAP50-95(B)")


def read_results(results_csv: Path) -> dict[str, list[float]]:
    """Columns of ``results.csv`` by name (ultralytics pads names with spaces in some versions)."""
    with results_csv.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    if not rows:
        raise ValueError(f"{results_csv}: no epoch recorded yet")
    columns: dict[str, list[float]] = {}
    for name in rows[0]:
        try:
            columns[name.strip()] = [float(row[name]) for row in rows]
        except (TypeError, ValueError):
            continue
    return columns


def write_training_report(results_csv: Path, out_png: Path, title: str = "") -> Path:
    columns = read_results(results_csv)
    epochs = columns.get("epoch", list(range(1, len(next(iter(columns.values()))) + 1)))
    figure = Figure(figsize=(14, 4), layout="constrained")
    losses, metrics, rates = figure.subplots(1, 3)
    for name in LOSSES:
        for split, style in (("train", "--"), ("val", "-")):
            values = columns.get(f"{split}/{name}")
            if values is not None:
                losses.plot(
                    epochs, values, style, marker="o", markersize=2, label=f"{split} {name}"
                )
    losses.set(title="losses", xlabel="epoch", yscale="log")
    for name in METRICS:
        values = columns.get(f"metrics/{name}")
        if values is not None:
            metrics.plot(epochs, values, "-o", markersize=3, label=name.removesuffix("(B)"))
    metrics.set(title="val metrics (ultralytics val, all classes)", xlabel="epoch", ylim=(0, 1))
    for name in sorted(k for k in columns if k.startswith("lr/")):
        rates.plot(epochs, columns[name], marker="o", markersize=2, label=name)
    rates.set(title="learning rate", xlabel="epoch")
    for axes in (losses, metrics, rates):
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=7)
    figure.suptitle(title or str(results_csv.parent))
    out_png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_png, dpi=90)
    return out_png
