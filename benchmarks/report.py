"""Benchmark outputs: ``metrics.json`` (stable, rounded), ``report.md`` tables and PNG plots.

Plots use matplotlib's object API (``Figure`` + Agg canvas), never pyplot, so no GUI backend or
global figure state is involved and the same input always gives the same PNG bytes. matplotlib
is imported only by the functions that draw, so metric code runs without it.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2

from benchmarks.frames import read_image

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DIGITS = 6  # metric noise below 1e-6 is float rounding, not signal; keep files diff-friendly
GREEN, RED = (60, 180, 60), (40, 40, 220)  # BGR: ground truth, detection


def rounded(value: Any, digits: int = DIGITS) -> Any:
    """``value`` with every float rounded (NaN/inf become null: JSON has no such numbers)."""
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item, digits) for item in value]
    return value


def delegated_command_line(name: str, args: argparse.Namespace) -> str:
    """``vigifeu bench NAME ...`` with every option of ``args`` spelled out, as typed again.

    Booleans are the ``--flag`` / ``--no-flag`` pairs of ``BooleanOptionalAction``."""
    parts = [f"vigifeu bench {name}"]
    for dest, value in vars(args).items():
        option = f"--{dest.replace('_', '-')}"
        if value is None:
            continue
        if isinstance(value, bool):
            parts.append(option if value else f"--no-{option[2:]}")
        elif isinstance(value, list):
            parts.append(f"{option} {' '.join(str(v) for v in value)}")
        else:
            parts.append(f"{option} {value}")
    return " ".join(parts)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(rounded(data), indent=2, allow_nan=False, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: floats with ``digits`` decimals, None as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def new_figure(width_in: float, height_in: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")


def save_figure(figure: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No software/date chunks: identical plots give identical files.
    figure.savefig(path, format="png", metadata={"Software": None})


@dataclass(frozen=True, slots=True)
class Tile:
    """One crop of a grid: the image, the box it is about (normalised xyxy) and a caption."""

    image_path: Path
    box: tuple[float, float, float, float]
    caption: str
    truths: Sequence[tuple[float, float, float, float]] = field(default_factory=tuple)
    detections: Sequence[tuple[float, float, float, float]] = field(default_factory=tuple)


def _draw(image: Any, boxes: Sequence[tuple[float, float, float, float]], colour: Any) -> None:
    height, width = image.shape[:2]
    thickness = max(1, round(max(width, height) / 320))
    for x_min, y_min, x_max, y_max in boxes:
        top_left = (round(x_min * width), round(y_min * height))
        bottom_right = (round(x_max * width), round(y_max * height))
        cv2.rectangle(image, top_left, bottom_right, colour, thickness)


def crop_around(image: Any, box: tuple[float, float, float, float], context: float = 1.5) -> Any:
    """The box with ``context`` times its size around it (at least a quarter of the frame)."""
    height, width = image.shape[:2]
    x_min, y_min, x_max, y_max = box
    half = max((x_max - x_min) * width, (y_max - y_min) * height, min(width, height) / 4)
    half *= context / 2 + 0.5
    cx, cy = (x_min + x_max) / 2 * width, (y_min + y_max) / 2 * height
    left, top = max(0, round(cx - half)), max(0, round(cy - half))
    right, bottom = min(width, round(cx + half)), min(height, round(cy + half))
    return image[top:bottom, left:right]


def crop_grid(tiles: Sequence[Tile], path: Path, title: str, columns: int = 4) -> None:
    """A grid of crops, ground truth in green and detections in red, or a note if empty."""
    rows = max(1, math.ceil(len(tiles) / columns))
    figure = new_figure(3.0 * columns, 3.0 * rows + 0.4)
    figure.suptitle(title)
    if not tiles:
        figure.text(0.5, 0.5, "none", ha="center", va="center")
    for index, tile in enumerate(tiles):
        image = read_image(tile.image_path)
        _draw(image, tile.truths, GREEN)
        _draw(image, tile.detections, RED)
        axes = figure.add_subplot(rows, columns, index + 1)
        axes.imshow(cv2.cvtColor(crop_around(image, tile.box), cv2.COLOR_BGR2RGB))
        axes.set_title(tile.caption, fontsize=7)
        axes.axis("off")
    save_figure(figure, path)


TRANSITION_STYLE = {
    "start": ("tab:red", "-"),
    "update": ("tab:orange", ":"),
    "end": ("tab:grey", "--"),
}
CLASS_COLOURS = {"smoke": "tab:blue", "fire": "tab:purple"}


def plot_score_timeline(
    minutes: Sequence[float],
    scores: Mapping[str, Sequence[float]],
    transitions: Sequence[tuple[float, str]],
    *,
    floor: float,
    title: str,
    xlabel: str,
    path: Path,
    expected: Sequence[bool] = (),
) -> None:
    """Best score per frame and class over time; alert transitions (start/update/end) as lines.

    ``expected`` shades the frames where smoke is expected (a labelled timeline).
    """
    figure = new_figure(9.0, 3.6)
    axes = figure.add_subplot(1, 1, 1)
    for name, values in scores.items():
        if any(values):
            colour = CLASS_COLOURS.get(name)
            axes.plot(minutes, values, ".-", color=colour, lw=1, label=f"best {name} score")
    shaded = [m for m, flag in zip(minutes, expected, strict=False) if flag]
    if shaded:
        axes.axvspan(min(shaded), max(shaded), color="tab:green", alpha=0.1, label="smoke expected")
    axes.axhline(floor, color="black", lw=0.8, ls="--", label="score floor")
    labelled: set[str] = set()
    for at, state in transitions:
        colour, style = TRANSITION_STYLE[state]
        axes.axvline(
            at,
            color=colour,
            ls=style,
            lw=1.2,
            label=None if state in labelled else f"alert {state}",
        )
        labelled.add(state)
    axes.set(ylim=(0, 1.02), xlabel=xlabel, ylabel="score", title=title)
    axes.legend(fontsize=7, loc="upper left")
    axes.grid(alpha=0.3)
    save_figure(figure, path)
