"""One camera + DEM: a distance interval along the bearing, and a point when the gates pass.

The interval comes from casting the ray at elevation ``e ± 2 sigma_e`` (research note §3.2):
the lowered ray gives the near end, the raised ray the far end (open when it never lands).
A point is claimed only when (§3.5): the central ray lands on land with data all the way, the
raised ray lands too, the ray meets the terrain at >= 5 deg, the interval is at most 1.5 km, and
the central ray is not just clipping a crest with a far landing behind it (the smoke base may be
hidden by a nearer ridge). Otherwise the reason is named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from central.geo.dem import Dem
from central.geo.raymarch import (
    MAX_DISTANCE_M,
    MIN_DISTANCE_M,
    REFRACTION_K,
    STEP_M,
    Eye,
    GroundProfile,
    MissReason,
    RayCast,
    RayHit,
    cast_along,
)

MIN_GRAZING_DEG = 5.0
MAX_INTERVAL_M = 1_500.0
INTERVAL_SIGMAS = 2.0

TerrainReason = (
    MissReason
    | Literal["grazing_angle_below_5deg", "range_interval_too_long", "masking_ridge_ambiguity"]
)


@dataclass(frozen=True, slots=True)
class TerrainFix:
    interval_m: tuple[float, float | None] | None  # ground distance (near, far or None = open)
    hit: RayHit | None  # the central ray's landing, when it has one
    point_ok: bool  # every gate passed: ``hit`` is a location
    reason: TerrainReason | None  # why not, when not

    def along_sigma_m(self) -> float | None:
        """1-sigma along the bearing: the ±2-sigma interval is four sigmas long."""
        if self.interval_m is None or self.interval_m[1] is None:
            return None
        return (self.interval_m[1] - self.interval_m[0]) / (2 * INTERVAL_SIGMAS)


def terrain_fix(
    dem: Dem,
    eye: Eye,
    azimuth_deg: float,
    elevation_deg: float,
    elevation_sigma_deg: float,
    k: float = REFRACTION_K,
) -> TerrainFix:
    profile = ground_profile(dem, eye, azimuth_deg)
    return terrain_fix_along(profile, elevation_deg, elevation_sigma_deg, k)


def ground_profile(dem: Dem, eye: Eye, azimuth_deg: float) -> GroundProfile:
    """The ground under the rays of ``terrain_fix``, to share between the fixes of an azimuth."""
    return GroundProfile(dem, eye, azimuth_deg, STEP_M, MIN_DISTANCE_M, MAX_DISTANCE_M)


def terrain_fix_along(
    profile: GroundProfile,
    elevation_deg: float,
    elevation_sigma_deg: float,
    k: float = REFRACTION_K,
) -> TerrainFix:
    """``terrain_fix`` over a ground profile (``ground_profile``)."""
    spread = INTERVAL_SIGMAS * elevation_sigma_deg
    central = cast_along(profile, elevation_deg, k=k)
    if central.miss in ("eye_below_terrain", "ray_blocked_near_camera"):
        return TerrainFix(None, None, False, central.miss)
    near = cast_along(profile, elevation_deg - spread, k=k)
    far = cast_along(profile, elevation_deg + spread, k=k)
    interval = _interval(near, central, far)
    if central.hit is None:
        return TerrainFix(interval, None, False, central.miss)
    if far.hit is None:
        reason: TerrainReason = far.miss or "ray_never_meets_ground"
        if reason != "no_terrain_data":
            reason = "range_interval_too_long"
        return TerrainFix(interval, central.hit, False, reason)
    length = far.hit.distance_m - (near.hit.distance_m if near.hit else central.hit.distance_m)
    if central.hit.reemerges and far.hit.distance_m - central.hit.distance_m > MAX_INTERVAL_M:
        return TerrainFix(interval, central.hit, False, "masking_ridge_ambiguity")
    if central.hit.grazing_deg < MIN_GRAZING_DEG:
        return TerrainFix(interval, central.hit, False, "grazing_angle_below_5deg")
    if length > MAX_INTERVAL_M:
        return TerrainFix(interval, central.hit, False, "range_interval_too_long")
    return TerrainFix(interval, central.hit, True, None)


def _interval(near: RayCast, central: RayCast, far: RayCast) -> tuple[float, float | None] | None:
    landings = [cast.hit.distance_m for cast in (near, central) if cast.hit is not None]
    if not landings:
        return None
    start = min(landings)
    if far.hit is not None:
        return start, max(far.hit.distance_m, start)
    return start, None


def cross_sigma_m(distance_m: float, azimuth_sigma_deg: float) -> float:
    return distance_m * math.tan(math.radians(azimuth_sigma_deg))
