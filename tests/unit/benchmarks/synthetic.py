"""Synthetic lookout frames and a tiny YOLO dataset that the ``tiny_model`` fixture can read.

Frames are 640x480, dark textured landscape; "smoke" is a bright grey square. The tiny model
letterboxes to 320 (scale 0.5, 40 px pad top and bottom) and scores an 8x8 grid of 40 px input
cells, i.e. 80x80 px frame cells starting at y = -80: a patch filling a cell is found with a box
equal to that cell. Each image mixes found plumes, a dim plume (missed), an unlabelled bright
patch (a false positive) and negatives, so AP, P and R are all strictly between 0 and 1.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

WIDTH, HEIGHT, CELL = 640, 480, 80
GRID_TOP = -80  # frame y of the first grid row (the letterbox pad is 40 input px = 80 frame px)


@dataclass(frozen=True)
class Patch:
    column: int
    row: int  # rows 1..6 lie inside the frame
    grey: int  # 0..255: the tiny model scores 190 -> 0.45, 200 -> 0.80, 240 -> 1.0, 120 -> 0
    labelled: bool = True


# (split, image name, patches): the ground truth is fixed so tests can assert exact outcomes.
IMAGES: list[tuple[str, str, list[Patch]]] = [
    ("val", "a_plume", [Patch(1, 2, 240, True)]),
    ("val", "b_two_plumes", [Patch(5, 3, 200, True), Patch(2, 5, 230, True)]),
    ("val", "c_dim_plume", [Patch(3, 3, 120, True)]),
    ("val", "d_cloud", [Patch(6, 1, 210, False), Patch(1, 4, 195, True)]),
    ("val", "e_negative", []),
    ("val", "f_negative_cloud", [Patch(4, 2, 190, False)]),
    ("train", "g_plume", [Patch(2, 2, 240, True)]),
]


def _background(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    image[:] = (40, 70, 50)  # dark green hills (BGR)
    noise = rng.integers(0, 30, (HEIGHT, WIDTH, 1), dtype=np.uint8)
    return cv2.add(image, np.repeat(noise, 3, axis=2))


def patch_box(patch: Patch) -> tuple[float, float, float, float]:
    """Normalised xyxy of the frame cell the patch fills."""
    x0, y0 = patch.column * CELL, GRID_TOP + patch.row * CELL
    return x0 / WIDTH, y0 / HEIGHT, (x0 + CELL) / WIDTH, (y0 + CELL) / HEIGHT


def frame_with(patches: list[Patch], seed: int = 0) -> np.ndarray:
    """A 640x480 BGR landscape with each patch painted into its grid cell."""
    image = _background(seed)
    for patch in patches:
        x0, y0 = patch.column * CELL, GRID_TOP + patch.row * CELL
        image[y0 : y0 + CELL, x0 : x0 + CELL] = patch.grey
    return image


def write_tiny_dataset(root: Path) -> Path:
    for index, (split, name, patches) in enumerate(IMAGES):
        image = frame_with(patches, index)
        lines = []
        for patch in patches:
            if patch.labelled:
                x_min, y_min, x_max, y_max = patch_box(patch)
                lines.append(
                    f"0 {(x_min + x_max) / 2:.6f} {(y_min + y_max) / 2:.6f} "
                    f"{x_max - x_min:.6f} {y_max - y_min:.6f}"
                )
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(
            str(root / "images" / split / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95]
        )
        (root / "labels" / split / f"{name}.txt").write_text("\n".join(lines), encoding="utf-8")
    data_yaml = root / "data.yaml"
    data_yaml.write_text(
        "path: .\ntrain: images/train\nval: images/val\nnc: 2\nnames:\n  0: smoke\n  1: fire\n",
        encoding="utf-8",
    )
    return data_yaml


def write_registry(directory: Path, model: Path, *, score: float = 0.5) -> Path:
    """A registry naming ``model`` twice: 'tiny-fp32' and its child 'tiny-int8' (the default).

    Both point at copies of the same file: what matters to the harness is the parent link.
    """
    import hashlib
    import shutil

    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, fmt, parent in (
        ("tiny-fp32", "onnx-fp32", None),
        ("tiny-int8", "onnx-int8", "tiny-fp32"),
    ):
        file = directory / f"{name}.onnx"
        shutil.copyfile(model, file)
        entries.append(
            {
                "name": name,
                "version": "1",
                "file": file.name,
                "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
                "input_size": 320,
                "classes": ["smoke", "fire"],
                "thresholds": {"score": score, "iou": 0.45},
                "parent": parent,
                "format": fmt,
                "training_data": "synthetic",
                "licence": "CC0-1.0",
            }
        )
    registry = directory / "registry.yaml"
    registry.write_text(yaml.safe_dump({"default": "tiny-int8", "models": entries}))
    return registry


# Timelines of 'bench sequences' with a known answer (see test_sequences).
START_UNIX = 1_532_813_226  # any time; spacing is what matters
PLUME = Patch(3, 3, 240)
CLOUD = Patch(5, 1, 240)
DIM = Patch(3, 3, 120)

# id -> (timestamped, frames as (patch or None, smoke_expected))
TIMELINES: dict[str, tuple[bool, list[tuple[Patch | None, int]]]] = {
    # onset at frame 3, plume visible from frame 4, confirmed on frame 5 (2 of 4 frames): 120 s
    "a_fire": (True, [(None, 0)] * 3 + [(None, 1)] + [(PLUME, 1)] * 4),
    # a cloud on frames 1-2 confirms on frame 2: one false alarm, no smoke expected
    "b_cloud": (True, [(None, 0), (CLOUD, 0), (CLOUD, 0), (None, 0), (None, 0)]),
    # smoke expected but too dim for the detector: missed
    "c_dim": (True, [(None, 0)] + [(DIM, 1)] * 5),
    # no timestamps: spaced by --frame-interval-s 30; onset and plume at frame 2, alert frame 3
    "d_untimed": (False, [(None, 0)] * 2 + [(PLUME, 1)] * 3),
}


def write_sequences(root: Path) -> Path:
    rows = []
    for sequence_id, (timed, frames) in TIMELINES.items():
        for index, (patch, expected) in enumerate(frames):
            file = f"frames/{sequence_id}_{index:02d}.jpg"
            (root / "frames").mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / file), frame_with([patch] if patch else [], index))
            rows.append(
                {
                    "sequence_id": sequence_id,
                    "camera": "cam-a",
                    "frame_index": index,
                    "file": file,
                    "unix_time": START_UNIX + 60 * index if timed else "",
                    "smoke_expected": expected,
                }
            )
    path = root / "sequences.csv"
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
