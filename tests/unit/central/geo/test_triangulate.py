"""Two or more bearings on the ellipsoid (research note §4.3-4.5, table §9.5)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from central.geo.crs import GEOD
from central.geo.triangulate import (
    BearingLine,
    Degenerate,
    Fix,
    cut_angle_deg,
    error_ellipse,
    intersect_pair,
    triangulate,
    wrap180,
)
from tests.unit.central.geo.support import CABANELLE, COURMETTES, VALBONNE

CAB = (CABANELLE.longitude_deg, CABANELLE.latitude_deg)
COUR = (COURMETTES.longitude_deg, COURMETTES.latitude_deg)
VAL = (VALBONNE.longitude_deg, VALBONNE.latitude_deg)


def line(site: tuple[float, float], azimuth: float, sigma: float = 0.5) -> BearingLine:
    return BearingLine(site[0], site[1], azimuth, sigma)


def distance_m(fix: Fix, lon: float, lat: float) -> float:
    return float(GEOD.inv(fix.longitude_deg, fix.latitude_deg, lon, lat)[2])


@pytest.mark.parametrize(
    ("bearings", "lon", "lat", "tolerance_m"),
    [
        ([line(CAB, 295.869), line(COUR, 42.570)], 7.21, 43.86, 1.0),  # T1
        ([line(CAB, 296.869), line(COUR, 42.570)], 7.21287, 43.86225, 5.0),  # T1 + 1 deg bias
        ([line(CAB, 238.819), line(COUR, 101.432)], 7.20, 43.69, 1.0),  # T2
        ([line(CAB, 296.269), line(COUR, 42.270), line(VAL, 29.290)], 7.21069, 43.86118, 2.0),
    ],
)
def test_fixes_of_the_research_note(
    bearings: list[BearingLine], lon: float, lat: float, tolerance_m: float
) -> None:
    fix = triangulate(bearings)
    assert isinstance(fix, Fix)
    assert distance_m(fix, lon, lat) < tolerance_m


def test_t1_covariance_and_ellipse() -> None:
    fix = triangulate([line(CAB, 295.869), line(COUR, 42.570)])
    assert isinstance(fix, Fix)
    assert fix.drms_m == pytest.approx(262, abs=2)
    expected = np.array([[45_289, -995], [-995, 23_307]])
    got = np.array(fix.covariance_en_m2)
    assert got[0, 0] == pytest.approx(expected[0, 0], rel=0.01)
    assert got[1, 1] == pytest.approx(expected[1, 1], rel=0.01)
    assert got[0, 1] == pytest.approx(expected[0, 1], abs=0.01 * expected[0, 0])
    major, minor, orientation = error_ellipse(fix.covariance_en_m2, 2.448)
    assert major == pytest.approx(521, rel=0.01)
    assert minor == pytest.approx(373, rel=0.01)
    assert orientation == pytest.approx(92.6, abs=0.5)


def test_three_cameras_residuals_and_chi2() -> None:
    fix = triangulate([line(CAB, 296.269), line(COUR, 42.270), line(VAL, 29.290)])
    assert isinstance(fix, Fix)
    assert fix.residuals_deg == pytest.approx((-0.034, -0.174, 0.230), abs=0.002)
    assert fix.chi2 == pytest.approx(0.34, abs=0.01)
    assert fix.used == (0, 1, 2)


def test_outlier_is_dropped_by_chi2() -> None:
    """valbonne off by 5 deg: chi2 66.6 > 6.63, refit on the two others."""
    fix = triangulate([line(CAB, 296.269), line(COUR, 42.270), line(VAL, 34.090)])
    assert isinstance(fix, Fix)
    assert fix.used == (0, 1)
    assert distance_m(fix, 7.21, 43.86) < 200


@pytest.mark.parametrize(
    ("bearings", "reasons"),
    [
        # T0: on the cabanelle-courmettes baseline, cut 1.6 deg.
        ([line(CAB, 255.000), line(COUR, 76.642)], {"cut_angle_below_30deg"}),
        # T0 + 1 deg: the note's camera-centroid frame makes the rays diverge; on the ellipsoid
        # they still cross 5 km from courmettes at a 1.3 deg cut. Either way: no fix.
        ([line(CAB, 256.000), line(COUR, 76.642)], {"cut_angle_below_30deg", "rays_diverge"}),
        # Same mast (Pyronear's croix-augas pair): no baseline.
        ([line((2.7109, 48.4267), 10), line((2.7110, 48.4268), 50)], {"colocated_cameras"}),
        # Pointing away from each other.
        ([line(CAB, 90.0), line(COUR, 270.0)], {"rays_diverge"}),
        # Parallel, both pointing north.
        ([line(CAB, 0.0), line(COUR, 0.0)], {"rays_diverge", "beyond_range"}),
        # Crossing 80 km out at sea.
        ([line(CAB, 170.0), line(COUR, 130.0)], {"beyond_range"}),
    ],
)
def test_degenerate_cases_are_named(bearings: list[BearingLine], reasons: set[str]) -> None:
    result = triangulate(bearings)
    assert isinstance(result, Degenerate)
    assert result.reason in reasons


def test_bearings_across_north_wrap() -> None:
    """One camera sees the fire at 359.x deg, the other at 0.x after a 1-sigma error: the
    residuals must wrap (359.9 - 0.1 is -0.2 deg, not 359.8)."""
    fire_lon, fire_lat = 7.2, 43.95
    a, b = (7.2005, 43.80), (7.05, 43.88)
    az_a = GEOD.inv(*a, fire_lon, fire_lat)[0] % 360
    az_b = GEOD.inv(*b, fire_lon, fire_lat)[0] % 360
    assert az_a > 359.5
    assert 30 < az_b < 90
    fix = triangulate([line(a, az_a), line(b, az_b)])
    assert isinstance(fix, Fix)
    assert distance_m(fix, fire_lon, fire_lat) < 1.0
    shifted = triangulate([line(a, (az_a + 0.5) % 360), line(b, az_b)])
    assert isinstance(shifted, Fix)
    assert distance_m(shifted, fire_lon, fire_lat) < 400


@pytest.mark.parametrize(
    ("a", "b", "cut"),
    [(10, 100, 90), (359, 1, 2), (0, 180, 0), (45, 315, 90), (30, 200, 10)],
)
def test_cut_angle(a: float, b: float, cut: float) -> None:
    assert cut_angle_deg(a, b) == pytest.approx(cut)


def test_wrap180() -> None:
    assert list(wrap180([359.0, -181.0, 180.0, 540.0])) == [-1.0, 179.0, -180.0, -180.0]


def test_closed_form_start_matches_the_ellipsoid() -> None:
    crossing = intersect_pair(line(CAB, 295.869), line(COUR, 42.570))
    assert not isinstance(crossing, Degenerate)
    assert GEOD.inv(*crossing, 7.21, 43.86)[2] < 20


def test_lambert93_straight_lines_are_kilometres_off() -> None:
    """The negative test of §9.5: intersecting true azimuths as straight lines in EPSG:2154
    misses T1 by more than a kilometre, which is why the library never does it."""
    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    c1, c2 = np.array(to_l93.transform(*CAB)), np.array(to_l93.transform(*COUR))
    d1 = np.array([np.sin(np.radians(295.869)), np.cos(np.radians(295.869))])
    d2 = np.array([np.sin(np.radians(42.570)), np.cos(np.radians(42.570))])

    def cross(p: np.ndarray, q: np.ndarray) -> float:
        return float(p[0] * q[1] - p[1] * q[0])

    t1 = cross(c2 - c1, d2) / cross(d1, d2)
    x, y = c1 + t1 * d1
    lon, lat = to_l93.transform(x, y, direction="INVERSE")
    assert GEOD.inv(lon, lat, 7.21, 43.86)[2] > 1000
