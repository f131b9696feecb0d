"""Pixel <-> direction (research note §2.3, table §9.1) and lens laws (§2.2, §9.2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from central.geo.camera_model import CameraModel, focal_from_fov_px
from contracts import CameraGeometry, LensModel
from tests.unit.central.geo.support import SQUARE_87

PINHOLE = LensModel()


def model_9_1(heading: float, tilt: float, roll: float, lens: LensModel = PINHOLE) -> CameraModel:
    return CameraModel.from_geometry(
        CameraGeometry(
            latitude_deg=43.7,
            longitude_deg=7.2,
            lens_altitude_m=800,
            azimuth_deg=heading,
            tilt_deg=tilt,
            roll_deg=roll,
            hfov_deg=87,
            vfov_deg=SQUARE_87,
            image_width_px=1280,
            image_height_px=720,
            lens=lens,
        )
    )


@pytest.mark.parametrize(
    ("u", "v", "heading", "tilt", "roll", "azimuth", "elevation"),
    [
        (640, 360, 160, 0, 0, 160.000, 0.000),
        (1280, 360, 160, 0, 0, 203.500, 0.000),
        (960, 360, 160, 0, 0, 185.384, 0.000),
        (320, 360, 160, 0, 0, 134.616, 0.000),
        (960, 540, 160, 0, 0, 185.384, -13.557),
        (960, 540, 160, -10, 0, 186.821, -22.542),
        (793.6, 374.4, 160, -2, 0, 172.847, -3.143),
        (793.6, 374.4, 160, -2, 1, 172.827, -3.365),
        (100, 50, 10, 5, -2, 329.586, 22.323),
    ],
)
def test_pixel_to_direction_matches_research_table(
    u: float, v: float, heading: float, tilt: float, roll: float, azimuth: float, elevation: float
) -> None:
    model = model_9_1(heading, tilt, roll)
    assert model.fx_px == pytest.approx(674.4193, abs=1e-3)
    got_azimuth, got_elevation = model.pixel_to_direction(u, v)
    assert float(got_azimuth) == pytest.approx(azimuth, abs=1e-3)
    assert float(got_elevation) == pytest.approx(elevation, abs=1e-3)
    back_u, back_v = model.direction_to_pixel(got_azimuth, got_elevation)
    assert float(back_u) == pytest.approx(u, abs=1e-3)
    assert float(back_v) == pytest.approx(v, abs=1e-3)


@pytest.mark.parametrize("projection", ["rectilinear", "equidistant"])
@pytest.mark.parametrize(("k1", "k2"), [(0.0, 0.0), (-0.30, 0.08), (0.05, 0.0)])
def test_round_trip_over_the_whole_frame(projection: str, k1: float, k2: float) -> None:
    lens = LensModel(projection=projection, k1=k1, k2=k2)
    model = model_9_1(355.0, -3.0, 0.7, lens)
    u, v = np.meshgrid(np.linspace(0, 1280, 17), np.linspace(0, 720, 11))
    azimuth, elevation = model.pixel_to_direction(u, v)
    back_u, back_v = model.direction_to_pixel(azimuth, elevation)
    assert np.max(np.abs(back_u - u)) < 1e-3
    assert np.max(np.abs(back_v - v)) < 1e-3


@pytest.mark.parametrize(
    ("projection", "offset_deg"),
    [("equidistant", -21.75), ("rectilinear", -25.38)],
)
def test_lens_law_at_a_quarter_width(projection: str, offset_deg: float) -> None:
    """§2.2: at x = 0.25 on an 87 deg lens the linear (f-theta) law and the rectilinear law
    differ by 3.6 deg; the equidistant lens is exactly Pyronear's linear law."""
    model = model_9_1(0.0, 0.0, 0.0, LensModel(projection=projection))
    azimuth, _ = model.pixel_to_direction(0.25 * 1280, 360)
    assert float((azimuth + 180) % 360 - 180) == pytest.approx(offset_deg, abs=0.01)


def test_azimuth_wraps_at_north() -> None:
    """A camera facing 355 deg sees the right edge at 38.5 deg, not 398.5 or -321.5."""
    model = model_9_1(355.0, 0.0, 0.0)
    azimuth, _ = model.pixel_to_direction(1280, 360)
    assert float(azimuth) == pytest.approx(38.5, abs=1e-6)
    u, _ = model.direction_to_pixel(38.5, 0.0)
    assert float(u) == pytest.approx(1280, abs=1e-6)


def test_direction_behind_the_camera_has_no_pixel() -> None:
    u, v = model_9_1(0.0, 0.0, 0.0).direction_to_pixel(180.0, 0.0)
    assert math.isnan(float(u))
    assert math.isnan(float(v))


def test_distortion_keeps_the_configured_edge_angle() -> None:
    """fx is derived so that the frame edge stays hfov/2 off-axis whatever k1, k2."""
    lens = LensModel(k1=-0.30, k2=0.08)
    model = model_9_1(0.0, 0.0, 0.0, lens)
    azimuth, _ = model.pixel_to_direction(1280, 360)
    assert float(azimuth) == pytest.approx(43.5, abs=1e-6)
    assert model.fx_px > focal_from_fov_px(1280, 87, "rectilinear", 0.0, 0.0)


def test_folded_lens_is_refused() -> None:
    with pytest.raises(ValueError, match="folds"):
        focal_from_fov_px(1280, 87, "rectilinear", -2.0, 0.0)
