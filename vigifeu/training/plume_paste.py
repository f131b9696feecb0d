"""Real plumes pasted elsewhere into lookout training frames (recipe ``data``).

Why: the lookout set has 493 smoke boxes from about ten camera views, and 223 of them cover
under 1 % of the frame. Pasting its own plumes at other places, scales and sides of other
frames gives the detector more plumes on more backgrounds (copy-paste augmentation: Simple
Copy-Paste, Ghiasi et al. 2021, up to 2x more data-efficient; ``research/smoke-detection-
methods.md`` section 2.6 for the smoke-specific evidence and the dose).

How: a patch is a labelled plume with a margin around it. It is scaled to the destination frame
(times 0.6-1.2), mirrored half the time, placed with its base on textured ground (not in the
smooth sky) clear of the frame's own boxes, and blended in by Poisson image editing
(``cv2.seamlessClone``) inside the ellipse inscribed in the plume's grown box (cut by the patch
where the source frame's edge cut the margin): the patch's colours are matched to the destination at
the ellipse's border, so neither a rectangle nor a colour step marks the paste.

Procedural plumes (Gaussian puffs with a noise texture) were tried first and dropped: the
shipped detector, trained on real smoke only, found 3 % of them on the val frames where it finds
29 % of pasted real plumes and 71 % of the real val plumes (models/README.md, "Pasted plumes").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Margin around a plume's box, as a fraction of its size on each side: the ellipse inscribed in
# the grown box then still holds the box's corners.
PATCH_MARGIN = 0.25
SCALE_RANGE = (0.6, 1.2)  # on top of the ratio of the frames' widths
MIN_SIDE_PX = 8
# Where a plume's base is drawn: near the base of one of the frame's own plumes for this share,
# else at this height range of the frame; either way on textured ground (not sky or haze: grey
# standard deviation just below the base).
NEAR_REAL_BASE_SHARE = 0.7
BASE_HEIGHT_RANGE = (0.4, 0.95)
GROUND_TEXTURE_MIN_STD = 6.0
PLACEMENT_TRIES = 40
# Poisson blending matches colours at the patch's border but keeps the patch's own texture: a
# plume cut from smooth sky pasted over terrain (or the reverse) shows as an ellipse. So the
# margin around the plume must have a grey-level spread within this factor of the destination's.
MAX_TEXTURE_RATIO = 1.6
# Mean spread between a pixel's colour channels (of 255) below which a frame is greyscale. The
# lookout set's 61 infrared frames are under 1 (JPEG chroma noise), its colour frames above 13.
GREY_CHANNEL_SPREAD = 4.0
# seamlessClone needs its patch strictly inside the destination.
BORDER_PX = 2


@dataclass(frozen=True, slots=True)
class PixelBox:
    """Half-open pixel box: columns ``left..right-1``, rows ``top..bottom-1``."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def overlaps(self, other: PixelBox) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )

    def grown(self, fraction: float) -> PixelBox:
        """This box grown on every side by ``fraction`` of its width / height."""
        margin_x, margin_y = round(fraction * self.width), round(fraction * self.height)
        return PixelBox(
            self.left - margin_x, self.top - margin_y, self.right + margin_x, self.bottom + margin_y
        )

    def clipped(self, width_px: int, height_px: int) -> PixelBox:
        return PixelBox(
            max(0, self.left),
            max(0, self.top),
            min(width_px, self.right),
            min(height_px, self.bottom),
        )

    def yolo_line(self, class_id: int, width_px: int, height_px: int) -> str:
        centre_x = (self.left + self.right) / 2 / width_px
        centre_y = (self.top + self.bottom) / 2 / height_px
        return (
            f"{class_id} {centre_x:.6f} {centre_y:.6f} "
            f"{self.width / width_px:.6f} {self.height / height_px:.6f}"
        )


@dataclass(frozen=True, slots=True)
class PlumePatch:
    """A labelled plume and its surroundings, cut from a training frame."""

    pixels: np.ndarray  # BGR uint8
    plume: PixelBox  # the labelled box, in the patch's pixels
    # The plume's box grown by the margin, in the patch's pixels: the blending ellipse is
    # inscribed in it. It reaches past the patch where the frame's edge cut the margin short.
    blend: PixelBox
    frame_width_px: int  # of the frame it was cut from


def yolo_boxes(
    label_lines: tuple[str, ...], width_px: int, height_px: int, class_id: int | None = None
) -> list[PixelBox]:
    """Pixel boxes of YOLO label lines (``class cx cy w h``, normalised), of one class or all."""
    boxes = []
    for line in label_lines:
        label, centre_x, centre_y, box_w, box_h = (float(value) for value in line.split()[:5])
        if class_id is not None and int(label) != class_id:
            continue
        boxes.append(
            PixelBox(
                round((centre_x - box_w / 2) * width_px),
                round((centre_y - box_h / 2) * height_px),
                round((centre_x + box_w / 2) * width_px),
                round((centre_y + box_h / 2) * height_px),
            )
        )
    return boxes


def cut_patches(
    image: np.ndarray, label_lines: tuple[str, ...], smoke_class: int = 0
) -> list[PlumePatch]:
    """One patch per smoke box of ``image`` whose margin holds no other labelled box (it would
    be pasted unlabelled); the margin is cut short at the frame's edges."""
    height_px, width_px = image.shape[:2]
    boxes = yolo_boxes(label_lines, width_px, height_px)
    patches = []
    for index, box in enumerate(boxes):
        if int(label_lines[index].split()[0]) != smoke_class:
            continue
        grown = box.grown(PATCH_MARGIN)
        if any(grown.overlaps(other) for other in boxes[:index] + boxes[index + 1 :]):
            continue
        region = grown.clipped(width_px, height_px)
        plume = box.clipped(width_px, height_px)
        if plume.width < 1 or plume.height < 1:
            continue
        pixels = image[region.top : region.bottom, region.left : region.right].copy()
        patches.append(
            PlumePatch(
                pixels,
                _shifted(plume, -region.left, -region.top),
                _shifted(grown, -region.left, -region.top),
                width_px,
            )
        )
    return patches


def _shifted(box: PixelBox, dx: int, dy: int) -> PixelBox:
    return PixelBox(box.left + dx, box.top + dy, box.right + dx, box.bottom + dy)


def _looks_like_ground(grey: np.ndarray, box: PixelBox) -> bool:
    """Texture just below the box's base: sky and haze are smooth, terrain is not."""
    band_rows = max(4, round(0.02 * grey.shape[0]))
    band = grey[box.bottom : box.bottom + band_rows, max(0, box.left) : box.right]
    return (
        band.shape[0] == band_rows and band.size > 0 and float(band.std()) >= GROUND_TEXTURE_MIN_STD
    )


def _is_grey(image: np.ndarray) -> bool:
    """True for a frame whose colour channels are (nearly) equal: infrared or night views."""
    sample = image[::8, ::8].astype(np.int16)
    spread = np.abs(sample - sample[..., :1]).max(axis=2)
    return float(spread.mean()) < GREY_CHANNEL_SPREAD


def _scaled(rng: np.random.Generator, patch: PlumePatch, frame_width_px: int) -> PlumePatch:
    """The patch resized for a frame ``frame_width_px`` wide, mirrored half the time."""
    scale = frame_width_px / patch.frame_width_px * rng.uniform(*SCALE_RANGE)
    height, width = patch.pixels.shape[:2]
    new_width, new_height = max(1, round(width * scale)), max(1, round(height * scale))
    pixels = cv2.resize(patch.pixels, (new_width, new_height), interpolation=cv2.INTER_AREA)
    sx, sy = new_width / width, new_height / height

    def resized(box: PixelBox) -> PixelBox:
        return PixelBox(
            round(box.left * sx), round(box.top * sy), round(box.right * sx), round(box.bottom * sy)
        )

    plume, blend = resized(patch.plume), resized(patch.blend)
    if rng.random() < 0.5:
        pixels = np.ascontiguousarray(pixels[:, ::-1])

        def mirrored(box: PixelBox) -> PixelBox:
            return PixelBox(new_width - box.right, box.top, new_width - box.left, box.bottom)

        plume, blend = mirrored(plume), mirrored(blend)
    return PlumePatch(pixels, plume, blend, frame_width_px)


def _placed(
    rng: np.random.Generator,
    patch: PlumePatch,
    grey: np.ndarray,
    boxes: list[PixelBox],
    top_margin_px: int,
) -> PixelBox | None:
    """Where the patch goes in the frame (its whole rectangle), or None if this draw does not fit.

    The plume's base is drawn mostly near the base of one of the frame's own plumes (the band
    of distant terrain where lookout smoke is usually first seen), otherwise anywhere below the
    sky; it must stand on textured ground, and the patch must keep clear of the frame's boxes.
    """
    height_px, width_px = grey.shape
    patch_height, patch_width = patch.pixels.shape[:2]
    if boxes and rng.random() < NEAR_REAL_BASE_SHARE:
        base = rng.choice([box.bottom for box in boxes]) + rng.normal(0, 0.03 * height_px)
    else:
        base = rng.uniform(*BASE_HEIGHT_RANGE) * height_px
    top = round(base) - patch.plume.bottom
    left = int(rng.integers(BORDER_PX, max(BORDER_PX + 1, width_px - patch_width - BORDER_PX)))
    region = PixelBox(left, top, left + patch_width, top + patch_height)
    plume = PixelBox(
        left + patch.plume.left,
        top + patch.plume.top,
        left + patch.plume.right,
        top + patch.plume.bottom,
    )
    fits = (
        region.top >= max(top_margin_px, BORDER_PX)
        and region.bottom <= height_px - BORDER_PX
        and region.right <= width_px - BORDER_PX
    )
    if (
        not fits
        or any(region.overlaps(box) for box in boxes)
        or not _looks_like_ground(grey, plume)
        or not _textures_match(patch, grey[region.top : region.bottom, region.left : region.right])
    ):
        return None
    return region


def _margin_spread(grey: np.ndarray, plume: PixelBox) -> float:
    """Grey-level standard deviation of ``grey`` outside the ``plume`` box."""
    outside = np.ones(grey.shape, bool)
    outside[plume.top : plume.bottom, plume.left : plume.right] = False
    return float(grey[outside].std()) if outside.any() else 0.0


def _textures_match(patch: PlumePatch, destination: np.ndarray) -> bool:
    source = _margin_spread(cv2.cvtColor(patch.pixels, cv2.COLOR_BGR2GRAY), patch.plume)
    target = _margin_spread(destination, patch.plume)
    return max(source, target) <= MAX_TEXTURE_RATIO * max(min(source, target), 1.0)


def paste_plume(
    rng: np.random.Generator,
    image: np.ndarray,
    label_lines: tuple[str, ...],
    patches: list[PlumePatch],
    top_margin_px: int,
    smoke_class: int = 0,
) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """``image`` with one more plume and its label lines, or None when no place was found."""
    if not patches:
        return None
    height_px, width_px = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    boxes = yolo_boxes(label_lines, width_px, height_px)
    for _ in range(PLACEMENT_TRIES):
        patch = _scaled(rng, patches[int(rng.integers(len(patches)))], width_px)
        if min(patch.plume.width, patch.plume.height) < MIN_SIDE_PX:
            continue
        region = _placed(rng, patch, grey, boxes, top_margin_px)
        if region is None:
            continue
        pixels = patch.pixels
        if _is_grey(image):  # infrared / night frames: a coloured plume would be a cue
            pixels = cv2.cvtColor(cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        mask = np.zeros((region.height, region.width), np.uint8)
        blend = patch.blend
        centre = ((blend.left + blend.right) // 2, (blend.top + blend.bottom) // 2)
        axes = (max(1, blend.width // 2 - 1), max(1, blend.height // 2 - 1))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, -1)
        # seamlessClone centres the mask's bounding rectangle on the point it is given.
        mask_left, mask_top, mask_width, mask_height = cv2.boundingRect(mask)
        pasted = cv2.seamlessClone(
            pixels,
            image,
            mask,
            (region.left + mask_left + mask_width // 2, region.top + mask_top + mask_height // 2),
            cv2.NORMAL_CLONE,
        )
        plume = PixelBox(
            region.left + patch.plume.left,
            region.top + patch.plume.top,
            region.left + patch.plume.right,
            region.top + patch.plume.bottom,
        )
        return pasted, (*label_lines, plume.yolo_line(smoke_class, width_px, height_px))
    return None
