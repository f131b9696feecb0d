"""Build the one training dataset from the shared sets, as the recipe says.

Inputs are Ultralytics YOLO folders (``images/<split>``, ``labels/<split>``, class 0 smoke,
1 fire). The output is a prepared copy under the run folder with one generated ``data.yaml``:
banner rows blanked on lookout frames, the fire set filtered, the negatives sampled and, when
the recipe asks, copies of lookout training frames with one of the set's plumes pasted elsewhere.
"""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from vigifeu.training.plume_paste import cut_patches, paste_plume
from vigifeu.training.recipe import DataPolicy

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
CLASS_NAMES = {0: "smoke", 1: "fire"}
JPEG_QUALITY = 95


@dataclass(frozen=True, slots=True)
class LabelledImage:
    image: Path
    label_lines: tuple[str, ...]

    @property
    def classes(self) -> set[int]:
        return {int(line.split()[0]) for line in self.label_lines}


def list_split(dataset: Path, split: str) -> list[LabelledImage]:
    """Images of one split with their label lines (an absent label file is a negative).

    A set without this split gives none (a small local set may have no val); a folder without
    ``images/`` is refused, since it is no YOLO dataset (a mistyped path, say).
    """
    if not (dataset / "images").is_dir():
        raise ValueError(f"{dataset}: no images/ folder, so not a YOLO dataset")
    folder = dataset / "images" / split
    if not folder.is_dir():
        logger.warning("%s has no %s split", dataset, split)
        return []
    items = []
    for image in sorted(folder.iterdir()):
        if image.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        label = dataset / "labels" / split / (image.stem + ".txt")
        lines = label.read_text().split("\n") if label.exists() else []
        items.append(LabelledImage(image, tuple(line for line in lines if line.strip())))
    return items


def blank_banner(image: np.ndarray, height_fraction: float) -> np.ndarray:
    """Replace the top rows (camera text overlay) with the first clean row, smoothed."""
    rows = round(image.shape[0] * height_fraction)
    if rows == 0:
        return image
    out = image.copy()
    source_row = out[min(rows + 1, out.shape[0] - 1) : min(rows + 2, out.shape[0])]
    out[:rows] = cv2.blur(np.repeat(source_row, rows, axis=0), (15, 1))
    return out


def _read(image: Path) -> np.ndarray:
    pixels: np.ndarray | None = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ValueError(f"{image}: not a readable image")
    return pixels


def _write_labels(path: Path, label_lines: tuple[str, ...]) -> None:
    path.write_text("\n".join(label_lines) + ("\n" if label_lines else ""))


def _write(item: LabelledImage, out_images: Path, out_labels: Path, banner_fraction: float) -> None:
    target = out_images / item.image.name
    if banner_fraction > 0:
        cv2.imwrite(
            str(target.with_suffix(".jpg")),
            blank_banner(_read(item.image), banner_fraction),
            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
        )
    else:
        shutil.copyfile(item.image, target)
    _write_labels(out_labels / (item.image.stem + ".txt"), item.label_lines)


def write_pasted(
    sources: list[LabelledImage],
    count: int,
    banner_fraction: float,
    seed: int,
    out_images: Path,
    out_labels: Path,
) -> int:
    """Write ``count`` copies of seeded random ``sources`` frames, each with one more plume.

    The plumes are those of ``sources`` (``plume_paste``). A frame where no place is found is
    replaced by another draw (at most three draws per image asked for). Returns how many were
    written.
    """
    patches = [
        patch
        for item in sources
        if item.label_lines
        for patch in cut_patches(blank_banner(_read(item.image), banner_fraction), item.label_lines)
    ]
    rng = np.random.default_rng(seed)
    written = 0
    for _ in range(3 * count):
        if written == count or not sources:
            break
        item = sources[int(rng.integers(len(sources)))]
        pixels = blank_banner(_read(item.image), banner_fraction)
        top_margin_px = round(pixels.shape[0] * banner_fraction) + 1
        pasted = paste_plume(rng, pixels, item.label_lines, patches, top_margin_px)
        if pasted is None:
            continue
        name = f"pasted_{written:04d}_{item.image.stem}"
        cv2.imwrite(
            str(out_images / f"{name}.jpg"), pasted[0], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        )
        _write_labels(out_labels / f"{name}.txt", pasted[1])
        written += 1
    return written


def select_extra(
    items: list[LabelledImage], policy: DataPolicy, rng: random.Random, negatives_wanted: int | None
) -> list[LabelledImage]:
    """Fire-set images: keep positives (with a smoke box if the policy says so), sample negatives."""
    positives = [item for item in items if item.label_lines]
    if policy.extra_require_smoke_box:
        positives = [item for item in positives if 0 in item.classes]
    negatives = [item for item in items if not item.label_lines]
    if negatives_wanted is not None and negatives_wanted < len(negatives):
        negatives = rng.sample(negatives, negatives_wanted)
    return positives + negatives


def _refuse_repeats(lookouts: Sequence[Path]) -> None:
    resolved = [path.resolve() for path in lookouts]
    for index, path in enumerate(resolved):
        if path in resolved[:index]:
            raise ValueError(f"{lookouts[index]}: given twice as a lookout set")


def _refuse_name_clashes(items: list[LabelledImage], split: str) -> None:
    """Two datasets with an image of the same stem would overwrite each other's label file."""
    seen: dict[str, Path] = {}
    for item in items:
        other = seen.setdefault(item.image.stem, item.image)
        if other != item.image:
            raise ValueError(
                f"{split}: {item.image} and {other} would both be written as "
                f"{item.image.stem}: rename one of them"
            )


def prepare_dataset(
    lookouts: Sequence[Path], extra: Path | None, policy: DataPolicy, seed: int, out: Path
) -> Path:
    """Write the combined dataset into ``out`` and return its ``data.yaml``.

    The ``lookouts`` frames (HPWREN-style, with a banner: the shared set, operators' verdicts
    from ``vigifeu export-labels``, ...) are used whole, in the given order; ``extra`` (fire set
    and sky negatives) is filtered for training and kept whole for validation, so fire AP is
    measured on every labelled fire image.
    """
    _refuse_repeats(lookouts)
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    for split in ("train", "val"):
        out_images, out_labels = out / "images" / split, out / "labels" / split
        out_images.mkdir(parents=True, exist_ok=True)
        out_labels.mkdir(parents=True, exist_ok=True)
        lookout_items = [item for lookout in lookouts for item in list_split(lookout, split)]
        chosen = [(item, policy.banner_height_fraction) for item in lookout_items]
        if extra is not None:
            extra_items = list_split(extra, split)
            if split == "train":
                extra_items = select_extra(extra_items, policy, rng, policy.extra_negatives_train)
            chosen += [(item, 0.0) for item in extra_items]
        _refuse_name_clashes([item for item, _ in chosen], split)
        for item, banner in chosen:
            _write(item, out_images, out_labels, banner)
        counts[split] = len(chosen)
        if split == "train" and policy.pasted_plumes_per_lookout_image > 0:
            counts["train_pasted"] = write_pasted(
                lookout_items,
                round(policy.pasted_plumes_per_lookout_image * len(lookout_items)),
                policy.banner_height_fraction,
                seed,
                out_images,
                out_labels,
            )
    data_yaml = out / "data.yaml"
    data_yaml.write_text(
        yaml.safe_dump(
            {
                "path": str(out.resolve()),
                "train": "images/train",
                "val": "images/val",
                "nc": len(CLASS_NAMES),
                "names": CLASS_NAMES,
                "counts": counts,
            },
            sort_keys=False,
        )
    )
    return data_yaml
