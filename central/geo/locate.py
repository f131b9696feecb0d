"""The Locator: alerts' boxes from one or more cameras -> a located, attributed smoke estimate.

Method, best first: ``triangulation`` (two or more cameras with a cut angle of 30 deg or
more), then whichever of these has the smallest 1-sigma ellipse: ``terrain`` (one camera + DEM,
when the ray-cast quality gates pass), a weak ``triangulation`` (cut 5-30 deg, flagged
``cut_angle_below_30deg``), ``bearing_only`` with a distance interval (the point is the middle
of the interval and the ellipse spans it, +-2 sigma); else ``bearing_only`` with no point, and
``none`` when there is no usable sighting (``no_sightings``, ``bad_camera_geometry``).

Positions are WGS84 (EPSG:4326) degrees; the ellipse is 1-sigma, semi-axes in metres,
orientation of the major axis in degrees clockwise from true north in [0, 180).
``degenerate`` names why a better method was not used.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

import contracts
from central.geo.attribution import Attribution, attribute
from central.geo.bearing import (
    DEFAULT_PRIORS,
    BearingPriors,
    BoxBearing,
    CameraBearing,
    box_bearing,
    lookout_text,
)
from central.geo.camera_model import CameraModel
from central.geo.crs import GEOD
from central.geo.geodata import GeoData
from central.geo.raymarch import REFRACTION_K, Eye
from central.geo.terrain import TerrainFix, cross_sigma_m, ground_profile, terrain_fix_along
from central.geo.triangulate import BearingLine, Degenerate, error_ellipse, triangulate

logger = logging.getLogger(__name__)

Method = Literal["triangulation", "terrain", "bearing_only", "none"]
# Under a 30 deg cut a two-camera fix is degenerate, but down to 5 deg it may still beat a
# one-camera distance interval: the smaller 1-sigma ellipse wins. Below 5 deg the rays are
# practically parallel.
WEAK_CUT_DEG = 5.0
# An incident is re-located whenever one of its cameras sends an update, usually with the same
# smoke base: the terrain fix (three ray casts over one ground profile, ~1 ms) is kept per
# rounded ray. The rounding (0.001 deg = 0.35 m at 20 km) is far below any bearing's
# uncertainty, and the fix is always computed from the rounded ray, so a cached and a fresh
# answer are the same.
TERRAIN_CACHE_RAYS = 4096
# Successive alerts of one event keep the smoke base but not the box height, hence the
# elevation uncertainty: their fixes differ, their ground profile (the geodesic and DEM
# samples under the azimuth, most of a fix's cost) does not. ~10 kB each.
GROUND_CACHE_AZIMUTHS = 1024
AZIMUTH_DECIMALS, ELEVATION_DECIMALS = 3, 4


@dataclass(frozen=True, slots=True)
class Sighting:
    """One camera's view of the smoke, from an alert."""

    camera_key: str  # "<site_id>/<camera_id>"
    geometry: contracts.CameraGeometry
    box: contracts.BoundingBox  # the event's main box, normalised
    captured_at: datetime


@dataclass(frozen=True, slots=True)
class LocationEstimate:
    method: Method
    latitude_deg: float | None
    longitude_deg: float | None
    semi_major_m: float | None  # 1-sigma ellipse
    semi_minor_m: float | None
    orientation_deg: float | None  # major axis, clockwise from true north, [0, 180)
    bearings: tuple[CameraBearing, ...]
    degenerate: str | None  # named reason when degraded, e.g. "cut_angle_below_30deg"
    attribution: Attribution | None
    # Cameras whose bearing failed the fit's chi-square test and was left out ("bearing_disagrees"):
    # often another fire in the same incident, which an operator can split off.
    outlier_cameras: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form (plain dicts, lists, numbers, strings, None)."""
        return {
            "method": self.method,
            "latitude_deg": _round(self.latitude_deg, 6),
            "longitude_deg": _round(self.longitude_deg, 6),
            "ellipse_sigma": 1,
            "semi_major_m": _round(self.semi_major_m, 1),
            "semi_minor_m": _round(self.semi_minor_m, 1),
            "orientation_deg": _round(self.orientation_deg, 1),
            "degenerate": self.degenerate,
            "bearings": [
                {
                    **asdict(bearing),
                    "range_interval_m": list(bearing.range_interval_m)
                    if bearing.range_interval_m
                    else None,
                }
                for bearing in self.bearings
            ],
            "attribution": _attribution_json(self.attribution),
            "outlier_cameras": list(self.outlier_cameras),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _attribution_json(attribution: Attribution | None) -> dict[str, Any] | None:
    if attribution is None:
        return None
    data = asdict(attribution)
    data["dfci_touched"] = list(attribution.dfci_touched)
    data["nearest_stations"] = [
        {"name": name, "distance_m": distance} for name, distance in attribution.nearest_stations
    ]
    return data


@dataclass(frozen=True, slots=True)
class _View:
    sighting: Sighting
    eye: Eye
    bearing: BoxBearing
    terrain: TerrainFix | None
    terrain_ellipse: tuple[float, float, float] | None  # when the interval is closed


@dataclass(frozen=True, slots=True)
class _Candidate:
    method: Method
    longitude_deg: float
    latitude_deg: float
    ellipse: tuple[float, float, float]  # 1-sigma semi-major, semi-minor (m), orientation (deg)
    reason: str | None = None  # why a bearing-only candidate has no point fix


class Locator:
    def __init__(
        self,
        geodata: GeoData,
        *,
        priors: BearingPriors = DEFAULT_PRIORS,
        refraction_k: float = REFRACTION_K,
    ) -> None:
        self._geodata = geodata
        self._priors = priors
        self._k = refraction_k
        self._terrain_fix = functools.lru_cache(maxsize=TERRAIN_CACHE_RAYS)(self._cast_terrain)
        self._ground = functools.lru_cache(maxsize=GROUND_CACHE_AZIMUTHS)(ground_profile)

    def locate(self, sightings: Sequence[Sighting]) -> LocationEstimate:
        latest: dict[str, Sighting] = {}
        for sighting in sorted(sightings, key=lambda s: s.captured_at):
            latest[sighting.camera_key] = sighting
        views = []
        for sighting in latest.values():
            try:
                views.append(self._view(sighting))
            except ValueError as error:  # a lens whose distortion folds the frame edge
                logger.warning("sighting of %s left out: %s", sighting.camera_key, error)
        bearings = tuple(_camera_bearing(view) for view in views)
        if not views:
            reason = "bad_camera_geometry" if latest else "no_sightings"
            return LocationEstimate("none", None, None, None, None, None, (), reason, None)
        degenerate: str | None = None
        candidates: list[_Candidate] = []
        if len(views) >= 2:
            lines = [
                BearingLine(
                    view.eye.longitude_deg,
                    view.eye.latitude_deg,
                    view.bearing.azimuth_deg,
                    view.bearing.azimuth_sigma_deg,
                )
                for view in views
            ]
            fix = triangulate(lines)
            if not isinstance(fix, Degenerate):
                ellipse = error_ellipse(fix.covariance_en_m2)
                outliers = tuple(
                    view.sighting.camera_key
                    for index, view in enumerate(views)
                    if index not in fix.used
                )
                return self._estimate(
                    "triangulation",
                    fix.longitude_deg,
                    fix.latitude_deg,
                    ellipse,
                    bearings,
                    "bearing_disagrees" if outliers else None,
                    outliers,
                )
            degenerate = fix.reason
            if fix.reason == "cut_angle_below_30deg":
                # Still a constraint across the bearings; it competes on its (long) ellipse.
                weak = triangulate(lines, min_cut_deg=WEAK_CUT_DEG)
                if not isinstance(weak, Degenerate):
                    ellipse = error_ellipse(weak.covariance_en_m2)
                    candidates.append(
                        _Candidate("triangulation", weak.longitude_deg, weak.latitude_deg, ellipse)
                    )
        candidates.extend(_terrain_candidates(views))
        if not candidates:
            reasons = [
                view.terrain.reason for view in views if view.terrain and view.terrain.reason
            ]
            reason = degenerate or (reasons[0] if reasons else "no_terrain_data")
            return LocationEstimate(
                "bearing_only", None, None, None, None, None, bearings, reason, None
            )
        best = min(candidates, key=lambda candidate: candidate.ellipse[0])
        return self._estimate(
            best.method,
            best.longitude_deg,
            best.latitude_deg,
            best.ellipse,
            bearings,
            degenerate or best.reason,
        )

    def distance_interval_m(self, sighting: Sighting) -> tuple[float, float | None] | None:
        """The near end of the terrain interval always holds (nothing in front of the first
        ground the ray meets can stand on it); the far end only when the ray lands on a slope
        it does not come out of within 1 km: a ridge it merely clips may hide the base behind."""
        try:
            terrain = self._view(sighting).terrain
        except ValueError:
            return None
        if terrain is None or terrain.interval_m is None:
            return None
        near_m, far_m = terrain.interval_m
        if terrain.hit is None or terrain.hit.reemerges:
            return near_m, None
        return near_m, far_m

    def _view(self, sighting: Sighting) -> _View:
        geometry = sighting.geometry
        eye = Eye(geometry.longitude_deg, geometry.latitude_deg, geometry.lens_altitude_m)
        bearing = box_bearing(CameraModel.from_geometry(geometry), sighting.box, self._priors)
        terrain = self._terrain_fix(
            eye,
            round(bearing.azimuth_deg, AZIMUTH_DECIMALS),
            round(bearing.elevation_deg, ELEVATION_DECIMALS),
            round(bearing.elevation_sigma_deg, ELEVATION_DECIMALS),
        )
        ellipse = _terrain_ellipse(bearing, terrain) if terrain else None
        return _View(sighting, eye, bearing, terrain, ellipse)

    def _cast_terrain(
        self, eye: Eye, azimuth_deg: float, elevation_deg: float, elevation_sigma_deg: float
    ) -> TerrainFix | None:
        if self._geodata.dem is None:
            return None
        profile = self._ground(self._geodata.dem, eye, azimuth_deg)
        return terrain_fix_along(profile, elevation_deg, elevation_sigma_deg, self._k)

    def _estimate(
        self,
        method: Method,
        longitude_deg: float,
        latitude_deg: float,
        ellipse: tuple[float, float, float],
        bearings: tuple[CameraBearing, ...],
        degenerate: str | None,
        outlier_cameras: tuple[str, ...] = (),
    ) -> LocationEstimate:
        major, minor, orientation = ellipse
        return LocationEstimate(
            method=method,
            latitude_deg=latitude_deg,
            longitude_deg=longitude_deg,
            semi_major_m=major,
            semi_minor_m=minor,
            orientation_deg=orientation,
            bearings=bearings,
            degenerate=degenerate,
            attribution=attribute(
                self._geodata, longitude_deg, latitude_deg, major, minor, orientation
            ),
            outlier_cameras=outlier_cameras,
        )


def _terrain_candidates(views: Sequence[_View]) -> list[_Candidate]:
    """Terrain point fixes (gates passed) and, as bearing-only, the middle of every closed
    distance interval."""
    candidates = []
    for view in views:
        terrain, ellipse = view.terrain, view.terrain_ellipse
        if terrain is None or ellipse is None or terrain.interval_m is None:
            continue
        if terrain.point_ok and terrain.hit is not None:
            hit = terrain.hit
            candidates.append(_Candidate("terrain", hit.longitude_deg, hit.latitude_deg, ellipse))
            continue
        near, far = terrain.interval_m
        middle_m = (near + (far if far is not None else near)) / 2
        lon, lat, _ = GEOD.fwd(
            view.eye.longitude_deg, view.eye.latitude_deg, view.bearing.azimuth_deg, middle_m
        )
        candidates.append(
            _Candidate("bearing_only", float(lon), float(lat), ellipse, terrain.reason)
        )
    return candidates


def _terrain_ellipse(bearing: BoxBearing, terrain: TerrainFix) -> tuple[float, float, float] | None:
    """1-sigma ellipse of a one-camera fix: along the bearing from the closed ±2-sigma
    interval, across it from the azimuth sigma at the landing (or mid-interval) distance."""
    along = terrain.along_sigma_m()
    if along is None or terrain.interval_m is None:
        return None
    near, far = terrain.interval_m
    distance = terrain.hit.distance_m if terrain.hit else (near + (far or near)) / 2
    across = cross_sigma_m(distance, bearing.azimuth_sigma_deg)
    if along >= across:
        return along, across, bearing.azimuth_deg % 180.0
    return across, along, (bearing.azimuth_deg + 90.0) % 180.0


def _camera_bearing(view: _View) -> CameraBearing:
    site = view.sighting.camera_key.split("/")[0]
    return CameraBearing(
        camera_key=view.sighting.camera_key,
        azimuth_deg=round(view.bearing.azimuth_deg, 3),
        azimuth_sigma_deg=round(view.bearing.azimuth_sigma_deg, 3),
        elevation_deg=round(view.bearing.elevation_deg, 3),
        elevation_sigma_deg=round(view.bearing.elevation_sigma_deg, 3),
        range_interval_m=view.terrain.interval_m if view.terrain else None,
        lookout_text=lookout_text(site, view.bearing.azimuth_deg),
    )
