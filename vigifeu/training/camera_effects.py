"""What other cameras do to a frame, as a training augmentation (recipe ``augment.camera_effects``).

Why: the shipped model will see cameras that no dataset holds. ``vigifeu bench robustness``
showed the model trained without this (``smoke-fire-v2``) losing 44 AP50 points on hpwren val
under sensor noise of 8 grey levels, 34 under a warmer white balance, 20 under JPEG quality 20
and, at its operating threshold, 70 % of its recall under a 1.5 px blur (0.71 to 0.21). Pyronear's production recipe adds the same family of
effects (``research/smoke-detection-methods.md`` section 2.7: JPEG, downscale, noise, blur,
exposure); ultralytics' own (``Albumentations``) needs a package the training extra does not
install, and draws each effect with probability 0.01.

Each effect is drawn independently, in the order a camera applies them: white balance, exposure
and haze (scene, optics and the camera's colour processing), blur, a lower-resolution sensor,
sensor noise, then compression. The
probabilities below are scaled by the recipe's strength (0 turns the whole stage off). Boxes
do not move: every effect keeps the frame's size and geometry.

The ranges overlap those of ``bench robustness``, which therefore measures robustness to the
very family trained on; its motion blur and vignetting are outside the family, and measure a
little beyond it.

Draws come from Python's ``random`` (a numpy generator seeded from it for the noise): with
``workers=0`` that is the main process's state, which ``resumable`` reseeds every epoch, so a
run stays reproducible across interruptions.
"""

from __future__ import annotations

import logging
import math
import random
from typing import Any, Protocol

import cv2
import numpy as np

from vigifeu.training.recipe import WhiteBalanceDraw

logger = logging.getLogger(__name__)

# probability at strength 1, and the range each effect's parameter is drawn from
# White balance (v2 loses 34 AP50 points under red x1.15, blue x0.85), drawn one of two ways:
# - "independent-gains" (recipe v5): the red and blue gains each log-uniform in the range, so a
#   cast like the test's (red above x1.1 and blue below x0.9) comes up in 1 % of the frames;
# - "colour-temperature" (v6): one log-uniform warmth, red x g and blue / g, as a camera's white
#   balance errs and dawn light shifts along the warm-cold axis (x1.25 either way: light of
#   4,200 to 8,000 K on a camera balanced for 5,500 K, by Planck's law at 600 and 450 nm);
#   that cast comes up in 8 % of the frames.
WHITE_BALANCE_P, WHITE_BALANCE_GAIN_RANGE = 0.3, (0.85, 1.18)
WHITE_BALANCE_WARMTH_MAX_GAIN = 1.25
GAMMA_P, GAMMA_RANGE = 0.2, (0.7, 1.4)  # drawn log-uniformly: as often darker as brighter
HAZE_P, HAZE_SHARE_RANGE, HAZE_GREY_RANGE = 0.15, (0.05, 0.35), (170.0, 230.0)
BLUR_P, BLUR_SIGMA_PX_RANGE = 0.15, (0.4, 1.8)
DOWNSCALE_P, DOWNSCALE_RANGE = 0.25, (0.4, 0.9)
NOISE_P, NOISE_SIGMA_RANGE = 0.35, (2.0, 12.0)
JPEG_P, JPEG_QUALITY_RANGE = 0.35, (25, 90)


class Draws(Protocol):
    """The part of ``random.Random`` (or the ``random`` module) the effects draw from."""

    def random(self) -> float: ...

    def uniform(self, a: float, b: float) -> float: ...

    def randint(self, a: int, b: int) -> int: ...

    def getrandbits(self, k: int, /) -> int: ...


def white_balance(image: np.ndarray, gains_bgr: tuple[float, float, float]) -> np.ndarray:
    cast: np.ndarray = np.clip(np.rint(image * np.asarray(gains_bgr)), 0, 255).astype(np.uint8)
    return cast


def gamma_curve(image: np.ndarray, gamma: float) -> np.ndarray:
    table = np.rint(255.0 * (np.arange(256) / 255.0) ** gamma).astype(np.uint8)
    mapped: np.ndarray = cv2.LUT(image, table)
    return mapped


def haze(image: np.ndarray, share: float, grey: float) -> np.ndarray:
    """``share`` of the way from the scene towards a uniform ``grey`` (airlight)."""
    faded: np.ndarray = np.clip(np.rint(image * (1.0 - share) + grey * share), 0, 255).astype(
        np.uint8
    )
    return faded


def gaussian_blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    blurred: np.ndarray = cv2.GaussianBlur(image, (0, 0), sigma_px)
    return blurred


def downscale(image: np.ndarray, factor: float) -> np.ndarray:
    """A sensor ``factor`` as fine: shrunk, then brought back to the frame's size."""
    height, width = image.shape[:2]
    small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    resized: np.ndarray = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return resized


def sensor_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    noisy = image + rng.normal(0.0, sigma, image.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """The frame after a JPEG round trip at ``quality``."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded: np.ndarray | None = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:
        raise ValueError(f"OpenCV could not round-trip a {image.shape} frame through JPEG")
    return decoded


def white_balance_gains(how: WhiteBalanceDraw, draws: Draws) -> tuple[float, float, float]:
    """Random blue, green and red gains of another camera's white balance."""
    if how == "colour-temperature":
        warmth = math.log(WHITE_BALANCE_WARMTH_MAX_GAIN)
        red_gain = math.exp(draws.uniform(-warmth, warmth))
        return (1.0 / red_gain, 1.0, red_gain)
    low, high = (math.log(g) for g in WHITE_BALANCE_GAIN_RANGE)
    return (math.exp(draws.uniform(low, high)), 1.0, math.exp(draws.uniform(low, high)))


def apply_camera_effects(
    image: np.ndarray,
    strength: float,
    draws: Draws,
    white_balance_draw: WhiteBalanceDraw = "independent-gains",
) -> np.ndarray:
    """``image`` (BGR uint8) as a random other camera might have delivered it; a new array."""
    out = image

    def chance(p: float) -> bool:
        return draws.random() < p * strength

    if chance(WHITE_BALANCE_P):
        out = white_balance(out, white_balance_gains(white_balance_draw, draws))
    if chance(GAMMA_P):
        out = gamma_curve(out, math.exp(draws.uniform(*(math.log(g) for g in GAMMA_RANGE))))
    if chance(HAZE_P):
        out = haze(out, draws.uniform(*HAZE_SHARE_RANGE), draws.uniform(*HAZE_GREY_RANGE))
    if chance(BLUR_P):
        out = gaussian_blur(out, draws.uniform(*BLUR_SIGMA_PX_RANGE))
    if chance(DOWNSCALE_P):
        out = downscale(out, draws.uniform(*DOWNSCALE_RANGE))
    if chance(NOISE_P):
        noise_rng = np.random.default_rng(draws.getrandbits(32))
        out = sensor_noise(out, draws.uniform(*NOISE_SIGMA_RANGE), noise_rng)
    if chance(JPEG_P):
        out = jpeg(out, draws.randint(*JPEG_QUALITY_RANGE))
    return out if out is not image else image.copy()


class CameraEffects:
    """An ultralytics transform (a callable on its ``labels`` dict): ``apply_camera_effects``
    on ``labels["img"]``, drawing from the global ``random``."""

    def __init__(self, strength: float, white_balance_draw: WhiteBalanceDraw) -> None:
        self.strength = strength
        self.white_balance_draw = white_balance_draw

    def __call__(self, labels: dict[str, Any]) -> dict[str, Any]:
        labels["img"] = apply_camera_effects(
            labels["img"], self.strength, random, self.white_balance_draw
        )
        return labels


def with_camera_effects(transforms: Any, effects: CameraEffects) -> Any:
    """``transforms`` (an ultralytics ``Compose``) with ``effects`` before its last step,
    ``Format``, which turns the image into a tensor; once only."""
    if not any(isinstance(step, CameraEffects) for step in transforms.transforms):
        transforms.insert(len(transforms.transforms) - 1, effects)
    return transforms


WRAPPED_MARK = "_vigifeu_adds_camera_effects"  # on a dataset's wrapped build_transforms


class CameraEffectsRun:
    """The ultralytics callbacks that add ``CameraEffects`` to the training set's transforms.

    ultralytics rebuilds those transforms when it closes mosaic (``close_mosaic`` epochs), so
    the dataset's ``build_transforms`` is wrapped too, not only the transforms of the moment;
    and it rebuilds the whole training loader after a GPU out-of-memory retry, so every epoch
    start checks that the current dataset has them (a no-op when it does).
    """

    def __init__(
        self, strength: float, white_balance_draw: WhiteBalanceDraw = "independent-gains"
    ) -> None:
        self._effects = CameraEffects(strength, white_balance_draw)

    def install(self, model: Any) -> None:
        model.add_callback("on_pretrain_routine_end", self.on_pretrain_routine_end)
        model.add_callback("on_train_epoch_start", self.on_train_epoch_start)

    def on_pretrain_routine_end(self, trainer: Any) -> None:
        self._ensure(trainer.train_loader.dataset)
        logger.info(
            "camera effects at strength %g (white balance: %s) in the training transforms",
            self._effects.strength,
            self._effects.white_balance_draw,
        )

    def on_train_epoch_start(self, trainer: Any) -> None:
        self._ensure(trainer.train_loader.dataset)

    def _ensure(self, dataset: Any) -> None:
        effects = self._effects
        if not getattr(dataset.build_transforms, WRAPPED_MARK, False):
            build = dataset.build_transforms

            def build_with_effects(hyp: Any) -> Any:
                return with_camera_effects(build(hyp), effects)

            setattr(build_with_effects, WRAPPED_MARK, True)
            dataset.build_transforms = build_with_effects
        dataset.transforms = with_camera_effects(dataset.transforms, effects)
