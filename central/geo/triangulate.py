"""Two or more bearings -> a fix, solved on the WGS84 ellipsoid (research note §4.3-4.4).

Every azimuth is a geodesic azimuth from ``GEOD``; the solver is Gauss-Newton on the bearing
residuals, stepping in a local east/north plane at the current estimate (metres) and moving
along geodesics. Never straight lines in Lambert-93 (3 deg convergence: 1.8-2.6 km errors at
20 km) or in raw degrees (up to 9 deg bearing skew at 43.7 N).

The closed-form intersection that starts it is computed in an azimuthal-equidistant frame
centred on the first camera (built with ``GEOD``: distance and azimuth from the centre are
exact there), with the second camera's azimuth rotated by the meridian convergence between the
two. Degenerate cases are named, never solved into nonsense.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from central.geo.crs import GEOD

MIN_BASELINE_M = 100.0  # closer cameras share a mast: no baseline (Pyronear #629)
MIN_CUT_DEG = 30.0  # below 30 (or above 150) deg the ellipse is >= 3.7 times longer than wide
MAX_RANGE_M = 40_000.0  # farther than any lookout camera detects smoke
_MAX_ITERATIONS = 20
_CONVERGED_M = 0.001
# 99 % quantiles of chi-square for 1..8 degrees of freedom (Wilson-Hilferty above).
_CHI2_99 = (6.635, 9.210, 11.345, 13.277, 15.086, 16.812, 18.475, 20.090)

Degeneracy = Literal[
    "colocated_cameras", "cut_angle_below_30deg", "rays_diverge", "beyond_range", "no_convergence"
]


@dataclass(frozen=True, slots=True)
class BearingLine:
    """A line of position: camera position (WGS84 degrees) and true azimuth with 1-sigma."""

    longitude_deg: float
    latitude_deg: float
    azimuth_deg: float
    sigma_deg: float


@dataclass(frozen=True, slots=True)
class Fix:
    longitude_deg: float
    latitude_deg: float
    covariance_en_m2: tuple[tuple[float, float], tuple[float, float]]  # east/north, 1-sigma
    residuals_deg: tuple[float, ...]  # observed - computed, per used line
    used: tuple[int, ...]  # indices of the lines kept after the consistency test
    chi2: float
    cut_angle_deg: float  # the best cut angle between two used lines, in [0, 90]

    @property
    def drms_m(self) -> float:
        return math.sqrt(self.covariance_en_m2[0][0] + self.covariance_en_m2[1][1])


@dataclass(frozen=True, slots=True)
class Degenerate:
    reason: Degeneracy


def wrap180(angle_deg: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.mod(np.asarray(angle_deg, dtype=np.float64) + 180.0, 360.0) - 180.0


def cut_angle_deg(azimuth_a_deg: float, azimuth_b_deg: float) -> float:
    """Angle between two lines of position in [0, 90]: 90 is the best cut."""
    difference = abs(float(wrap180(azimuth_a_deg - azimuth_b_deg))) % 180.0
    return min(difference, 180.0 - difference)


def chi2_quantile_99(dof: int) -> float:
    if dof <= len(_CHI2_99):
        return _CHI2_99[dof - 1]
    z = 2.326  # 99 % normal quantile
    return dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


def intersect_pair(a: BearingLine, b: BearingLine) -> tuple[float, float] | Degenerate:
    """Closed-form crossing of two lines: (lon, lat), or why there is none."""
    azimuth_ab, azimuth_ba, baseline = GEOD.inv(
        a.longitude_deg, a.latitude_deg, b.longitude_deg, b.latitude_deg
    )
    if baseline < MIN_BASELINE_M:
        return Degenerate("colocated_cameras")
    convergence = float(wrap180(azimuth_ab - (azimuth_ba + 180.0)))
    c2 = baseline * np.array(
        [math.sin(math.radians(azimuth_ab)), math.cos(math.radians(azimuth_ab))]
    )
    d1 = _unit(a.azimuth_deg)
    d2 = _unit(b.azimuth_deg + convergence)
    s = _cross(d1, d2)
    if abs(s) < 1e-9:
        return Degenerate("rays_diverge")
    t1 = _cross(c2, d2) / s
    t2 = _cross(c2, d1) / s
    if t1 <= 0 or t2 <= 0:
        return Degenerate("rays_diverge")
    if t1 > MAX_RANGE_M or t2 > MAX_RANGE_M:
        return Degenerate("beyond_range")
    lon, lat, _ = GEOD.fwd(a.longitude_deg, a.latitude_deg, a.azimuth_deg, t1)
    return float(lon), float(lat)


def _unit(azimuth_deg: float) -> npt.NDArray[np.float64]:
    return np.array([math.sin(math.radians(azimuth_deg)), math.cos(math.radians(azimuth_deg))])


def _cross(p: npt.NDArray[np.float64], q: npt.NDArray[np.float64]) -> float:
    return float(p[0] * q[1] - p[1] * q[0])


def triangulate(lines: Sequence[BearingLine], min_cut_deg: float = MIN_CUT_DEG) -> Fix | Degenerate:
    """Maximum-likelihood fix of two or more lines; drops the worst line while chi-square
    fails its 99 % test (three or more lines), then re-checks the geometry. A caller that
    has nothing better may lower ``min_cut_deg`` to get a weak fix with its long ellipse."""
    if len(lines) < 2:
        raise ValueError("triangulation needs at least two bearing lines")
    used = list(range(len(lines)))
    while True:
        result = _solve([lines[i] for i in used], min_cut_deg)
        if isinstance(result, Degenerate):
            return result
        fix, normalised = result
        dof = len(used) - 2
        if dof == 0 or fix.chi2 <= chi2_quantile_99(dof):
            return Fix(
                fix.longitude_deg,
                fix.latitude_deg,
                fix.covariance_en_m2,
                fix.residuals_deg,
                tuple(used),
                fix.chi2,
                fix.cut_angle_deg,
            )
        del used[int(np.argmax(np.abs(normalised)))]


def _best_pair(lines: Sequence[BearingLine]) -> tuple[float, float] | Degenerate:
    """Start from the crossing of the most perpendicular pair that has one."""
    candidates = sorted(
        itertools.combinations(lines, 2),
        key=lambda pair: -cut_angle_deg(pair[0].azimuth_deg, pair[1].azimuth_deg),
    )
    reasons: list[Degenerate] = []
    for a, b in candidates:
        crossing = intersect_pair(a, b)
        if not isinstance(crossing, Degenerate):
            return crossing
        reasons.append(crossing)
    colocated = all(reason.reason == "colocated_cameras" for reason in reasons)
    return Degenerate("colocated_cameras") if colocated else reasons[0]


def _solve(
    lines: Sequence[BearingLine], min_cut_deg: float
) -> tuple[Fix, npt.NDArray[np.float64]] | Degenerate:
    start = _best_pair(lines)
    if isinstance(start, Degenerate):
        return start
    lon, lat = start
    camera_lon = np.array([line.longitude_deg for line in lines])
    camera_lat = np.array([line.latitude_deg for line in lines])
    observed = np.array([line.azimuth_deg for line in lines])
    weights = 1.0 / np.radians([line.sigma_deg for line in lines]) ** 2
    for _ in range(_MAX_ITERATIONS):
        computed, back, ranges = GEOD.inv(
            camera_lon, camera_lat, np.full(len(lines), lon), np.full(len(lines), lat)
        )
        # Direction of travel at the fix, from each camera: it sets how the azimuth moves.
        along = np.radians(np.asarray(back) + 180.0)
        jacobian = np.column_stack([np.cos(along), -np.sin(along)]) / np.asarray(ranges)[:, None]
        residuals = np.radians(wrap180(observed - np.asarray(computed)))
        normal = jacobian.T @ (weights[:, None] * jacobian)
        if abs(np.linalg.det(normal)) < 1e-30:
            return Degenerate("cut_angle_below_30deg")
        step = np.linalg.solve(normal, jacobian.T @ (weights * residuals))
        length = float(np.hypot(step[0], step[1]))
        lon, lat, _ = GEOD.fwd(lon, lat, math.degrees(math.atan2(step[0], step[1])), length)
        if length < _CONVERGED_M:
            break
    else:
        return Degenerate("no_convergence")
    computed, back, ranges = GEOD.inv(
        camera_lon, camera_lat, np.full(len(lines), lon), np.full(len(lines), lat)
    )
    residuals_deg = wrap180(observed - np.asarray(computed))
    if np.any(np.abs(residuals_deg) > 90.0):
        return Degenerate("rays_diverge")
    if np.any(np.asarray(ranges) > MAX_RANGE_M):
        return Degenerate("beyond_range")
    covariance = np.linalg.inv(normal)
    normalised = np.radians(residuals_deg) * np.sqrt(weights)
    chi2 = float(np.sum(normalised**2))
    if len(lines) > 2:
        covariance = covariance * max(1.0, chi2 / (len(lines) - 2))
    at_fix = np.asarray(back) + 180.0
    best_cut = max(cut_angle_deg(p, q) for p, q in itertools.combinations(at_fix, 2))
    if best_cut < min_cut_deg:
        return Degenerate("cut_angle_below_30deg")
    fix = Fix(
        longitude_deg=float(lon),
        latitude_deg=float(lat),
        covariance_en_m2=(
            (float(covariance[0, 0]), float(covariance[0, 1])),
            (float(covariance[1, 0]), float(covariance[1, 1])),
        ),
        residuals_deg=tuple(float(r) for r in residuals_deg),
        used=tuple(range(len(lines))),
        chi2=chi2,
        cut_angle_deg=best_cut,
    )
    return fix, normalised


def error_ellipse(
    covariance_en_m2: tuple[tuple[float, float], tuple[float, float]], scale: float = 1.0
) -> tuple[float, float, float]:
    """(semi_major_m, semi_minor_m, orientation_deg of the major axis from true north in
    [0, 180)) of the ``scale``-sigma ellipse (2.448 for 95 %)."""
    values, vectors = np.linalg.eigh(np.array(covariance_en_m2))
    major = vectors[:, 1]
    orientation = math.degrees(math.atan2(major[0], major[1])) % 180.0
    return (
        scale * math.sqrt(max(float(values[1]), 0.0)),
        scale * math.sqrt(max(float(values[0]), 0.0)),
        orientation,
    )
