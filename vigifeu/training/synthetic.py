"""Synthetic smoke plumes pasted onto the real lookout training frames (recipe ``data``).

Why: the lookout set has 493 smoke boxes from about ten camera views, and 223 of them cover
under 1 % of the frame. Pasting procedural plumes elsewhere in the same frames adds small plumes
on the real domain (same cameras, haze, compression), which is what the detector has least of.
Evidence and dose: ``research/smoke-detection-methods.md`` section 2.6 (PyroNear2025: about
+2 % F1 from 200 synthetic images; Cut-Paste-Learn: mixing blend modes stops the detector keying
on one paste artefact; about one synthetic image per 2-3 real ones).

A plume is an opacity matte (float32, 0..1): Gaussian puffs rising from a point source, widening
and thinning with height, leaning with a random wind, modulated by a smooth noise texture. It is
composited in one of three blend modes with a grey, bluish or brownish smoke colour at a peak
opacity of 0.3-0.8 (distant plumes are faint). Its label is the box of the whole matte.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

MATTE_CANVAS_PX = 128
# The matte is cut where it is this faint (relative to its peak) and rescaled so that it still
# reaches 0 at the cut: the label box then holds all that is pasted.
MATTE_FLOOR = 0.1
PUFFS = 48
# Plume box area as a fraction of the frame, drawn log-uniformly: the lookout set's boxes range
# from about 0.05 % to a few % of the frame, and the small ones are the hard ones.
AREA_FRACTION_RANGE = (0.0008, 0.03)
MIN_SIDE_PX = 8
# Where the base of a plume is drawn: near the base of one of the frame's own plumes for this
# share, else at this height range of the frame; either way on textured ground (not sky or
# haze: grey standard deviation just below the base).
NEAR_REAL_BASE_SHARE = 0.7
BASE_HEIGHT_RANGE = (0.4, 0.95)
GROUND_TEXTURE_MIN_STD = 6.0
PEAK_OPACITY_RANGE = (0.3, 0.8)
GREY_LEVEL_RANGE = (150.0, 240.0)
PLACEMENT_TRIES = 20
# Grey levels a plume's core must change the frame by, on average, to count as visible smoke.
MIN_VISIBLE_CONTRAST = 12.0
# A plume keeps this fraction of a labelled box's size away from it.
BOX_MARGIN = 0.1


class BlendMode(StrEnum):
    ALPHA = "alpha"  # smoke over the scene: lighter or darker than it
    SCREEN = "screen"  # light scattered into the view: only brightens
    LIGHTEN = "lighten"  # alpha, but never darker than the scene


@dataclass(frozen=True, slots=True)
class PixelBox:
    """Half-open pixel box: columns ``left..right-1``, rows ``top..bottom-1``."""

    left: int
    top: int
    right: int
    bottom: int

    def overlaps(self, other: PixelBox) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )

    def grown(self, fraction: float) -> PixelBox:
        """This box grown on every side by ``fraction`` of its width / height."""
        margin_x = round(fraction * (self.right - self.left))
        margin_y = round(fraction * (self.bottom - self.top))
        return PixelBox(
            self.left - margin_x, self.top - margin_y, self.right + margin_x, self.bottom + margin_y
        )

    def yolo_line(self, class_id: int, width_px: int, height_px: int) -> str:
        centre_x = (self.left + self.right) / 2 / width_px
        centre_y = (self.top + self.bottom) / 2 / height_px
        box_w = (self.right - self.left) / width_px
        box_h = (self.bottom - self.top) / height_px
        return f"{class_id} {centre_x:.6f} {centre_y:.6f} {box_w:.6f} {box_h:.6f}"


def _smooth_noise(rng: np.random.Generator, height_px: int, width_px: int) -> np.ndarray:
    """A 0..1 texture: random grids of two scales, upsampled bicubically and mixed."""
    texture = np.zeros((height_px, width_px), np.float32)
    for cells, weight in ((5, 0.6), (12, 0.4)):
        grid = rng.random((cells, cells)).astype(np.float32)
        texture += weight * cv2.resize(grid, (width_px, height_px), interpolation=cv2.INTER_CUBIC)
    texture -= texture.min()
    return texture / max(float(texture.max()), 1e-6)


def plume_matte(rng: np.random.Generator) -> np.ndarray:
    """An opacity matte (float32, peak 1) of one plume, cropped to the plume.

    Distant lookout plumes are mostly wider than tall: the column bends over in the wind and
    spreads into a layer. So puffs widen faster than they thicken as they rise, and the wind
    lean is drawn wide; the array's shape is the plume's.
    """
    size = MATTE_CANVAS_PX  # the plume's rise is drawn in a fraction of this
    rise = np.linspace(0.0, 1.0, PUFFS)  # 0 at the source, 1 at the top
    lean = rng.uniform(-1.5, 1.5)  # horizontal drift per unit of height (wind)
    wander = np.cumsum(rng.normal(0.0, 0.012, PUFFS))
    centre_x = size * 0.3 * (lean * rise + wander)
    centre_y = -size * rng.uniform(0.3, 0.8) * rise
    sigma_y = size * (rng.uniform(0.012, 0.025) + rng.uniform(0.04, 0.1) * rise)
    sigma_x = sigma_y * (1.0 + rng.uniform(0.3, 2.5) * rise)
    amplitude = (1.0 - rng.uniform(0.3, 0.7) * rise) * rng.uniform(0.7, 1.0, PUFFS)
    # A canvas that holds every puff to 3 sigma, so that no edge of the plume is cut.
    left, top = np.min(centre_x - 3 * sigma_x), np.min(centre_y - 3 * sigma_y)
    width = int(np.ceil(np.max(centre_x + 3 * sigma_x) - left))
    height = int(np.ceil(np.max(centre_y + 3 * sigma_y) - top))
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    matte = np.zeros((height, width), np.float32)
    for x, y, sx, sy, a in zip(
        centre_x - left, centre_y - top, sigma_x, sigma_y, amplitude, strict=True
    ):
        puff = a * np.exp(-((columns - x) ** 2) / (2 * sx * sx) - (rows - y) ** 2 / (2 * sy * sy))
        np.maximum(matte, puff.astype(np.float32), out=matte)
    matte *= 0.45 + 0.55 * _smooth_noise(rng, height, width)
    matte /= max(float(matte.max()), 1e-6)
    matte = np.clip((matte - MATTE_FLOOR) / (1.0 - MATTE_FLOOR), 0.0, 1.0)
    kept_rows = np.flatnonzero(matte.max(axis=1) > 0)
    kept_columns = np.flatnonzero(matte.max(axis=0) > 0)
    return np.ascontiguousarray(
        matte[kept_rows[0] : kept_rows[-1] + 1, kept_columns[0] : kept_columns[-1] + 1]
    )


def smoke_colour(rng: np.random.Generator) -> np.ndarray:
    """BGR float colour: grey, or tinted blue (haze) or brown (dust, fresh fuel)."""
    grey = rng.uniform(*GREY_LEVEL_RANGE)
    tint = rng.choice(3)
    shift: np.ndarray = np.zeros(3)
    if tint == 1:
        shift = np.array([rng.uniform(5, 20), rng.uniform(0, 8), 0.0])
    elif tint == 2:
        shift = np.array([0.0, rng.uniform(0, 10), rng.uniform(5, 25)])
    colour: np.ndarray = np.clip(grey + shift - shift.mean(), 0.0, 255.0)
    return colour


def composite(
    image: np.ndarray,
    matte: np.ndarray,
    box: PixelBox,
    colour_bgr: np.ndarray,
    peak_opacity: float,
    mode: BlendMode,
) -> np.ndarray:
    """``image`` (BGR uint8) with the matte, resized to ``box``, blended in; a new array."""
    width, height = box.right - box.left, box.bottom - box.top
    alpha = cv2.resize(matte, (width, height), interpolation=cv2.INTER_AREA)
    alpha = (peak_opacity * np.clip(alpha, 0.0, 1.0))[..., None]
    region = image[box.top : box.bottom, box.left : box.right].astype(np.float32)
    over = region * (1.0 - alpha) + colour_bgr.astype(np.float32) * alpha
    if mode is BlendMode.SCREEN:
        light = colour_bgr.astype(np.float32) * alpha
        blended = 255.0 - (255.0 - region) * (255.0 - light) / 255.0
    elif mode is BlendMode.LIGHTEN:
        blended = np.maximum(region, over)
    else:
        blended = over
    out = image.copy()
    out[box.top : box.bottom, box.left : box.right] = np.clip(np.rint(blended), 0, 255)
    return out


def _looks_like_ground(grey: np.ndarray, box: PixelBox) -> bool:
    """Texture just below the box's base: sky and haze are smooth, terrain is not."""
    band_rows = max(4, round(0.02 * grey.shape[0]))
    band = grey[box.bottom : box.bottom + band_rows, box.left : box.right]
    return band.shape[0] == band_rows and float(band.std()) >= GROUND_TEXTURE_MIN_STD


def place(
    rng: np.random.Generator,
    matte_shape: tuple[int, int],
    grey: np.ndarray,
    boxes: list[PixelBox],
    top_margin_px: int,
) -> PixelBox | None:
    """A box for a plume of the matte's aspect, its base on textured ground, clear of ``boxes``.

    The base is drawn mostly near the height of the frame's own plumes (the same band of
    distant terrain, where lookout smoke is usually first seen), otherwise anywhere below the
    sky.
    """
    height_px, width_px = grey.shape
    aspect = matte_shape[0] / matte_shape[1]  # height / width
    avoid = [box.grown(BOX_MARGIN) for box in boxes]
    for _ in range(PLACEMENT_TRIES):
        area = np.exp(rng.uniform(*np.log(AREA_FRACTION_RANGE))) * width_px * height_px
        box_w = max(MIN_SIDE_PX, round(float(np.sqrt(area / aspect))))
        box_h = max(MIN_SIDE_PX, round(box_w * aspect))
        if boxes and rng.random() < NEAR_REAL_BASE_SHARE:
            bottom = rng.choice([box.bottom for box in boxes]) + rng.normal(0, 0.03 * height_px)
        else:
            bottom = rng.uniform(*BASE_HEIGHT_RANGE) * height_px
        top = round(bottom) - box_h
        left = int(rng.integers(0, max(1, width_px - box_w + 1)))
        box = PixelBox(left, top, left + box_w, top + box_h)
        if (
            top >= top_margin_px
            and box.right <= width_px
            and _looks_like_ground(grey, box)
            and not any(box.overlaps(other) for other in avoid)
        ):
            return box
    return None


def yolo_boxes(label_lines: tuple[str, ...], width_px: int, height_px: int) -> list[PixelBox]:
    """Pixel boxes of YOLO label lines (``class cx cy w h``, normalised)."""
    boxes = []
    for line in label_lines:
        _, centre_x, centre_y, box_w, box_h = (float(value) for value in line.split()[:5])
        boxes.append(
            PixelBox(
                round((centre_x - box_w / 2) * width_px),
                round((centre_y - box_h / 2) * height_px),
                round((centre_x + box_w / 2) * width_px),
                round((centre_y + box_h / 2) * height_px),
            )
        )
    return boxes


def add_plume(
    rng: np.random.Generator,
    image: np.ndarray,
    label_lines: tuple[str, ...],
    top_margin_px: int,
    smoke_class: int = 0,
) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """``image`` with one more plume and its label lines, or None when no place was found."""
    height_px, width_px = image.shape[:2]
    matte = plume_matte(rng)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    box = place(
        rng,
        (matte.shape[0], matte.shape[1]),
        grey,
        yolo_boxes(label_lines, width_px, height_px),
        top_margin_px,
    )
    if box is None:
        return None
    # A plume too faint against its background to be seen would be a wrong label: redraw the
    # look (mode, colour, opacity) a few times, then give up on this frame.
    for _ in range(PLACEMENT_TRIES):
        mode = BlendMode(rng.choice([mode.value for mode in BlendMode]))
        peak_opacity = rng.uniform(*PEAK_OPACITY_RANGE)
        pasted = composite(image, matte, box, smoke_colour(rng), peak_opacity, mode)
        if visible_contrast(image, pasted, matte, box) >= MIN_VISIBLE_CONTRAST:
            return pasted, (*label_lines, box.yolo_line(smoke_class, width_px, height_px))
    return None


def visible_contrast(
    before: np.ndarray, after: np.ndarray, matte: np.ndarray, box: PixelBox
) -> float:
    """Mean grey-level change over the plume's core (where its matte is at least half its peak)."""
    width, height = box.right - box.left, box.bottom - box.top
    core = cv2.resize(matte, (width, height), interpolation=cv2.INTER_AREA) >= 0.5
    if not core.any():
        return 0.0
    region = (slice(box.top, box.bottom), slice(box.left, box.right))
    change = cv2.cvtColor(after[region], cv2.COLOR_BGR2GRAY).astype(np.float32) - cv2.cvtColor(
        before[region], cv2.COLOR_BGR2GRAY
    ).astype(np.float32)
    return float(np.abs(change[core]).mean())
