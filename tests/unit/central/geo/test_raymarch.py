"""Curvature/refraction constants (research note §9.3) and real-DEM ray casts (§9.4)."""

from __future__ import annotations

import numpy as np
import pytest

from central.geo import GeoData, dfci
from central.geo.crs import GEOD
from central.geo.dem import Dem
from central.geo.raymarch import (
    MAX_DISTANCE_M,
    MIN_DISTANCE_M,
    STEP_M,
    Eye,
    GroundProfile,
    _geodesic,
    _positions,
    cast_along,
    cast_ray,
    curvature_drop_m,
    flat_range_m,
    horizon_dip_deg,
    line_of_sight,
)
from central.geo.terrain import terrain_fix
from tests.unit.central.geo.support import CABANELLE, COURMETTES


@pytest.mark.parametrize(
    ("distance_m", "k", "drop_m"),
    [(10_000, 0.0, 7.85), (20_000, 0.13, 27.3), (30_000, 0.13, 61.5), (20_000, 1 / 7, 26.9)],
)
def test_curvature_drop(distance_m: float, k: float, drop_m: float) -> None:
    assert curvature_drop_m(distance_m, k) == pytest.approx(drop_m, abs=0.05)


def test_horizon_dip_from_800_m() -> None:
    assert horizon_dip_deg(800) == pytest.approx(0.847, abs=0.001)


@pytest.mark.parametrize(
    ("height_m", "depression_deg", "curvature", "range_km"),
    [
        (800, 2.369, True, 20.00),
        (800, 2.469, True, 19.14),
        (800, 2.269, True, 20.95),
        (800, 2.369, False, 19.34),  # the bias of ignoring curvature
    ],
)
def test_flat_range(
    height_m: float, depression_deg: float, curvature: bool, range_km: float
) -> None:
    got = flat_range_m(height_m, depression_deg, curvature=curvature)
    assert got is not None
    assert got / 1000 == pytest.approx(range_km, abs=0.01)


def test_ray_above_the_horizon_dip_never_lands() -> None:
    assert flat_range_m(300, 0.438) is None  # the dip from 300 m is 0.519 deg


def test_the_eyes_are_the_dem_plus_a_mast(geodata: GeoData) -> None:
    assert geodata.dem is not None
    for eye in (CABANELLE, COURMETTES):
        ground = float(geodata.dem.elevation_m(eye.longitude_deg, eye.latitude_deg))
        assert eye.altitude_m - ground == pytest.approx(10.0, abs=0.1)


@pytest.mark.parametrize(
    ("eye", "azimuth", "elevation", "range_km", "lat", "lon", "code"),
    [
        (CABANELLE, 262, -4.0, 8.22, 43.77631, 7.31855, "MD06A8.5"),
        (CABANELLE, 292, -2.4, 11.51, 43.82536, 7.28699, "LD88L0.1"),
        (CABANELLE, 255, -2.8, 13.28, 43.75561, 7.26037, "LD86K6.1"),
        (COURMETTES, 160, -3.0, 14.39, 43.59388, 7.08743, "LD84B7.2"),
        (COURMETTES, 200, -1.6, 24.16, 43.51121, 6.92430, "LD64F2.5"),
    ],
)
def test_ray_casts_on_the_real_dem(
    geodata: GeoData,
    eye: Eye,
    azimuth: float,
    elevation: float,
    range_km: float,
    lat: float,
    lon: float,
    code: str,
) -> None:
    assert geodata.dem is not None
    cast = cast_ray(geodata.dem, eye, azimuth, elevation)
    assert cast.hit is not None
    assert cast.hit.distance_m / 1000 == pytest.approx(range_km, abs=0.1)
    assert cast.hit.latitude_deg == pytest.approx(lat, abs=0.001)
    assert cast.hit.longitude_deg == pytest.approx(lon, abs=0.001)
    assert dfci.code_from_wgs84(cast.hit.longitude_deg, cast.hit.latitude_deg, True) == code


def test_curvature_matters_over_the_coastal_plain(geodata: GeoData) -> None:
    assert geodata.dem is not None
    curved = cast_ray(geodata.dem, CABANELLE, 240, -2.2)
    flat = cast_ray(geodata.dem, CABANELLE, 240, -2.2, curvature=False)
    assert curved.hit is not None
    assert flat.hit is not None
    assert curved.hit.distance_m / 1000 == pytest.approx(28.23, abs=0.2)
    assert flat.hit.distance_m / 1000 == pytest.approx(25.76, abs=0.2)


def test_range_interval_on_flat_ground(geodata: GeoData) -> None:
    """courmettes 160 / -3: the ±0.1 deg interval (2 sigma of 0.05) is 13.97-16.70 km, too
    long for a point (the central ray lands on a hillock of the plain and comes out again)."""
    assert geodata.dem is not None
    fix = terrain_fix(geodata.dem, COURMETTES, 160, -3.0, 0.05)
    assert fix.interval_m is not None
    near, far = fix.interval_m
    assert far is not None
    assert near / 1000 == pytest.approx(13.97, abs=0.1)
    assert far / 1000 == pytest.approx(16.70, abs=0.1)
    assert not fix.point_ok
    assert fix.reason in {"range_interval_too_long", "masking_ridge_ambiguity"}


def test_steep_facing_slope_gives_a_point(geodata: GeoData) -> None:
    assert geodata.dem is not None
    fix = terrain_fix(geodata.dem, CABANELLE, 262, -4.0, 0.05)
    assert fix.point_ok
    assert fix.reason is None
    assert fix.hit is not None
    assert fix.hit.grazing_deg >= 5.0


def test_ray_over_the_sea_is_no_land_fix(geodata: GeoData) -> None:
    assert geodata.dem is not None
    cast = cast_ray(geodata.dem, COURMETTES, 120, -2.0)
    assert cast.hit is None
    assert cast.miss == "sea"
    assert cast.reach_m / 1000 == pytest.approx(25.28, abs=0.1)


def test_masked_target_lands_on_the_nearer_ridge(geodata: GeoData) -> None:
    """The exact angles to a terrain point 15 km away land at 10.44 km: it is hidden."""
    assert geodata.dem is not None
    cast = cast_ray(geodata.dem, CABANELLE, 280.0, -2.0802)
    assert cast.hit is not None
    assert cast.hit.distance_m / 1000 == pytest.approx(10.44, abs=0.1)
    target = Eye(7.23602, 43.80994, float(geodata.dem.elevation_m(7.23602, 43.80994)) + 5)
    assert not line_of_sight(geodata.dem, CABANELLE, target)


def test_eye_below_terrain_is_an_error_not_a_hit(geodata: GeoData) -> None:
    assert geodata.dem is not None
    sunk = Eye(CABANELLE.longitude_deg, CABANELLE.latitude_deg, CABANELLE.altitude_m - 60)
    cast = cast_ray(geodata.dem, sunk, 262, -4.0)
    assert cast.hit is None
    assert cast.miss == "eye_below_terrain"


def test_ray_leaving_the_dem_north_of_44n_has_no_terrain(geodata: GeoData) -> None:
    assert geodata.dem is not None
    cast = cast_ray(geodata.dem, CABANELLE, 350, 2.0)
    assert cast.hit is None
    assert cast.miss == "no_terrain_data"
    assert cast.reach_m / 1000 == pytest.approx(24.06, abs=0.1)  # 44.0 N
    fix = terrain_fix(geodata.dem, CABANELLE, 350, 2.0, 0.1)
    assert not fix.point_ok
    assert fix.reason == "no_terrain_data"


def test_visible_neighbour_has_line_of_sight(geodata: GeoData) -> None:
    assert geodata.dem is not None
    hit = cast_ray(geodata.dem, CABANELLE, 262, -4.0).hit
    assert hit is not None
    target = Eye(hit.longitude_deg, hit.latitude_deg, hit.altitude_m + 5)
    assert line_of_sight(geodata.dem, CABANELLE, target)


def test_ray_with_a_void_sample_reports_no_terrain() -> None:
    heights = np.full((50, 50), 100, dtype=np.int16)
    heights[:, 30] = -32768  # a void column across the ray's path
    dem = Dem(heights, "EPSG:4326", x0=7.0, y0=43.5, dx=0.01, dy=0.01)
    cast = cast_ray(dem, Eye(7.1, 43.25, 200.0), 90.0, -0.01)
    assert cast.hit is None
    assert cast.miss == "no_terrain_data"


@pytest.mark.parametrize("azimuth_deg", [0.0, 45.0, 135.0, 222.5, 300.0])
def test_points_along_the_ray_follow_the_exact_geodesic(azimuth_deg: float) -> None:
    """Interpolated between geodesic nodes 1 km apart: within 5 cm of pyproj over 40 km."""
    distances = np.arange(MIN_DISTANCE_M, MAX_DISTANCE_M, STEP_M)
    lon, lat = _positions(CABANELLE, azimuth_deg, distances)
    exact_lon, exact_lat = _geodesic(CABANELLE, azimuth_deg, distances)  # pyproj at each point
    _, _, error_m = GEOD.inv(lon, lat, exact_lon, exact_lat)
    assert np.max(error_m) < 0.05


def test_rays_sharing_a_profile_read_the_ground_only_as_far_as_they_need(geodata: GeoData) -> None:
    assert geodata.dem is not None
    profile = GroundProfile(geodata.dem, CABANELLE, 262, STEP_M, MIN_DISTANCE_M, MAX_DISTANCE_M)
    near = cast_along(profile, -4.0)
    assert near == cast_ray(geodata.dem, CABANELLE, 262, -4.0)
    assert near.hit is not None
    # the march read at most one chunk (3.8 km) past the hit and its 1 km window
    assert near.hit.distance_m < 10_000
    assert profile.read_m < near.hit.distance_m + 5_000
    far = cast_along(profile, -2.5)
    assert far == cast_ray(geodata.dem, CABANELLE, 262, -2.5)
