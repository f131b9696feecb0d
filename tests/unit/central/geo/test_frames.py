"""Why the library works on the ellipsoid (research note §5, table §9.7)."""

from __future__ import annotations

import math

import pytest
from pyproj import CRS, Proj, Transformer

from central.geo.crs import GEOD
from tests.unit.central.geo.support import CABANELLE, COURMETTES, VALBONNE


@pytest.mark.parametrize(
    ("site", "convergence_deg", "scale"),
    [(CABANELLE, 3.207, 1.000166), (COURMETTES, 2.922, 1.000225), (VALBONNE, 2.923, 1.000302)],
)
def test_lambert93_convergence_and_scale(
    site: object, convergence_deg: float, scale: float
) -> None:
    lon, lat = site.longitude_deg, site.latitude_deg  # type: ignore[attr-defined]
    factors = Proj(CRS("EPSG:2154")).get_factors(lon, lat)
    assert factors.meridian_convergence == pytest.approx(convergence_deg, abs=0.002)
    assert factors.meridional_scale == pytest.approx(scale, abs=2e-6)


def test_aeqd_centred_on_the_camera_keeps_azimuth_and_distance() -> None:
    aeqd = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=aeqd +lat_0={CABANELLE.latitude_deg} +lon_0={CABANELLE.longitude_deg} +datum=WGS84 +units=m",
        always_xy=True,
    )
    x, y = aeqd.transform(7.21, 43.86)
    azimuth, _, distance = GEOD.inv(CABANELLE.longitude_deg, CABANELLE.latitude_deg, 7.21, 43.86)
    assert math.degrees(math.atan2(x, y)) % 360 == pytest.approx(295.8695, abs=1e-4)
    assert azimuth % 360 == pytest.approx(295.8695, abs=1e-4)
    assert math.hypot(x, y) == pytest.approx(18_728.08, abs=0.05)
    assert distance == pytest.approx(18_728.08, abs=0.05)


def test_raw_degrees_skew_bearings_by_nine_degrees() -> None:
    """A "45 deg" line drawn in raw lon/lat at 43.7 N truly heads 35.9 deg (35.87 on the
    sphere, atan(cos 43.7); 35.96 on the ellipsoid)."""
    azimuth, _, _ = GEOD.inv(7.0, 43.7, 7.01, 43.71)
    assert azimuth == pytest.approx(35.87, abs=0.1)
