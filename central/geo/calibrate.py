"""Fit a camera's heading, tilt and roll (and lens k1) from landmarks of known position.

A landmark is a feature whose position and height are known (a summit from OSM with its
surveyed ``ele``, a mast, a bell tower) and whose pixel was picked in a frame. Its true
direction from the eye is the geodesic azimuth and the apparent elevation with curvature and
refraction (research note §7.1). Levenberg-Marquardt minimises, over all landmarks,
(azimuth residual * cos e)^2 + (elevation residual)^2 in degrees. k1 is fitted too when there
are at least ``MIN_LANDMARKS_FOR_LENS`` landmarks (the FOV stays the configured edge angle).

Heading drift is flagged when the stored pose misses the landmarks: heading or tilt moved more
than 0.2 / 0.1 deg (§7.5), or the residual RMS under the stored pose is over 0.2 deg and three
times the fitted one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import contracts
from central.geo.camera_model import CameraModel
from central.geo.crs import GEOD
from central.geo.raymarch import REFRACTION_K, Eye, apparent_elevation_deg
from central.geo.triangulate import wrap180

MIN_LANDMARKS = 2
MIN_LANDMARKS_FOR_LENS = 6
DRIFT_HEADING_DEG = 0.2
DRIFT_TILT_DEG = 0.1
DRIFT_RMS_DEG = 0.2
_STEP_DEG = 1e-4
_ITERATIONS = 50


class CalibrationError(ValueError):
    """Too few or badly placed landmarks."""


@dataclass(frozen=True, slots=True)
class Landmark:
    name: str
    u_px: float
    v_px: float
    longitude_deg: float
    latitude_deg: float
    altitude_m: float  # same vertical datum as the lens altitude (metres above sea level)


@dataclass(frozen=True, slots=True)
class Residual:
    name: str
    distance_m: float
    azimuth_deg: float  # observed (from the pixel) minus true
    elevation_deg: float


@dataclass(frozen=True, slots=True)
class Calibration:
    heading_deg: float
    tilt_deg: float
    roll_deg: float
    k1: float
    lens_fitted: bool
    residuals: tuple[Residual, ...]
    rms_deg: float
    stored_rms_deg: float  # RMS under the pose the camera had before the fit
    drift: str | None  # why drift is flagged, None when the stored pose still fits


def true_direction(
    eye: Eye, landmark: Landmark, k: float = REFRACTION_K
) -> tuple[float, float, float]:
    """(azimuth_deg, apparent elevation_deg, distance_m) of a landmark from the eye."""
    azimuth, _, distance = GEOD.inv(
        eye.longitude_deg, eye.latitude_deg, landmark.longitude_deg, landmark.latitude_deg
    )
    target = Eye(landmark.longitude_deg, landmark.latitude_deg, landmark.altitude_m)
    return float(azimuth) % 360.0, apparent_elevation_deg(eye, target, distance, k), float(distance)


def _with(
    geometry: contracts.CameraGeometry, params: npt.NDArray[np.float64]
) -> contracts.CameraGeometry:
    update: dict[str, Any] = {
        "azimuth_deg": float(params[0]) % 360.0,
        "tilt_deg": float(params[1]),
        "roll_deg": float(params[2]),
    }
    if params.size > 3:
        update["lens"] = geometry.lens.model_copy(update={"k1": float(params[3])})
    return geometry.model_copy(update=update)


def _residuals(
    geometry: contracts.CameraGeometry,
    params: npt.NDArray[np.float64],
    pixels: npt.NDArray[np.float64],
    truth: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    model = CameraModel.from_geometry(_with(geometry, params))
    azimuth, elevation = model.pixel_to_direction(pixels[:, 0], pixels[:, 1])
    d_azimuth = wrap180(azimuth - truth[:, 0]) * np.cos(np.radians(truth[:, 1]))
    return np.concatenate([d_azimuth, elevation - truth[:, 1]])


def fit_camera(
    geometry: contracts.CameraGeometry,
    landmarks: Sequence[Landmark],
    fit_lens: bool | None = None,
    k: float = REFRACTION_K,
) -> Calibration:
    """Least-squares pose (and k1) of the camera; ``fit_lens=None`` fits k1 when there are
    enough landmarks."""
    if len(landmarks) < MIN_LANDMARKS:
        raise CalibrationError(f"need at least {MIN_LANDMARKS} landmarks, got {len(landmarks)}")
    lens = len(landmarks) >= MIN_LANDMARKS_FOR_LENS if fit_lens is None else fit_lens
    if lens and len(landmarks) < MIN_LANDMARKS_FOR_LENS:
        raise CalibrationError(f"fitting k1 needs {MIN_LANDMARKS_FOR_LENS} landmarks")
    eye = Eye(geometry.longitude_deg, geometry.latitude_deg, geometry.lens_altitude_m)
    directions = [true_direction(eye, landmark, k) for landmark in landmarks]
    truth = np.array([(a, e) for a, e, _ in directions])
    pixels = np.array([(landmark.u_px, landmark.v_px) for landmark in landmarks])
    start = [geometry.azimuth_deg, geometry.tilt_deg, geometry.roll_deg]
    params = np.array(start + ([geometry.lens.k1] if lens else []), dtype=np.float64)
    stored = _residuals(geometry, params, pixels, truth)
    params = _levenberg_marquardt(geometry, params, pixels, truth)
    fitted = _residuals(geometry, params, pixels, truth)
    n = len(landmarks)
    residuals = tuple(
        Residual(landmark.name, distance, float(fitted[i]), float(fitted[n + i]))
        for i, (landmark, (_, _, distance)) in enumerate(zip(landmarks, directions, strict=True))
    )
    rms = _rms(fitted)
    stored_rms = _rms(stored)
    heading, tilt = float(params[0]) % 360.0, float(params[1])
    return Calibration(
        heading_deg=heading,
        tilt_deg=tilt,
        roll_deg=float(params[2]),
        k1=float(params[3]) if lens else geometry.lens.k1,
        lens_fitted=lens,
        residuals=residuals,
        rms_deg=rms,
        stored_rms_deg=stored_rms,
        drift=_drift(geometry, heading, tilt, rms, stored_rms),
    )


def _rms(residuals: npt.NDArray[np.float64]) -> float:
    n = residuals.size // 2
    return float(np.sqrt(np.mean(residuals[:n] ** 2 + residuals[n:] ** 2)))


def _drift(
    geometry: contracts.CameraGeometry, heading: float, tilt: float, rms: float, stored_rms: float
) -> str | None:
    moved = float(wrap180(heading - geometry.azimuth_deg))
    if abs(moved) > DRIFT_HEADING_DEG:
        return f"heading moved {moved:+.2f} deg (limit {DRIFT_HEADING_DEG})"
    if abs(tilt - geometry.tilt_deg) > DRIFT_TILT_DEG:
        return f"tilt moved {tilt - geometry.tilt_deg:+.2f} deg (limit {DRIFT_TILT_DEG})"
    if stored_rms > DRIFT_RMS_DEG and stored_rms > 3 * rms:
        return f"residuals grew to {stored_rms:.2f} deg RMS under the stored pose"
    return None


def _levenberg_marquardt(
    geometry: contracts.CameraGeometry,
    params: npt.NDArray[np.float64],
    pixels: npt.NDArray[np.float64],
    truth: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    damping = 1e-3
    residuals = _residuals(geometry, params, pixels, truth)
    cost = float(residuals @ residuals)
    for _ in range(_ITERATIONS):
        jacobian = np.column_stack(
            [
                (_residuals(geometry, params + step, pixels, truth) - residuals) / _STEP_DEG
                for step in np.eye(params.size) * _STEP_DEG
            ]
        )
        normal = jacobian.T @ jacobian
        gradient = jacobian.T @ residuals
        while True:
            try:
                delta = -np.linalg.solve(
                    normal + damping * np.diag(np.diag(normal) + 1e-12), gradient
                )
            except np.linalg.LinAlgError:
                raise CalibrationError(
                    "landmarks do not constrain the pose (all on one point?)"
                ) from None
            trial = params + delta
            trial_residuals = _residuals(geometry, trial, pixels, truth)
            trial_cost = float(trial_residuals @ trial_residuals)
            if trial_cost <= cost:
                params, residuals, damping = trial, trial_residuals, max(damping / 10, 1e-9)
                improvement, cost = cost - trial_cost, trial_cost
                break
            damping *= 10
            if damping > 1e9:
                return params
        if improvement < 1e-18 or float(np.max(np.abs(delta))) < 1e-9:
            break
    return params


def landmark_spread_fraction(landmarks: Sequence[Landmark], width_px: int) -> float:
    """Horizontal spread of the landmarks as a share of the image width (roll needs > 0.3)."""
    us = [landmark.u_px for landmark in landmarks]
    return (max(us) - min(us)) / width_px if us else 0.0
