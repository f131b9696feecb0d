"""Synthetic sightings: a camera on a site looking at a known point, its box drawn exactly."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from central.geo import Sighting
from central.geo.camera_model import CameraModel
from central.geo.crs import GEOD
from central.geo.raymarch import Eye, apparent_elevation_deg
from contracts import BoundingBox, CameraGeometry, DetectionClass, LensModel

# Research note §4.5: the three real 06 sites; eyes are the DEM + 10 m (§3.4).
CABANELLE = Eye(7.419608279, 43.7866472, 1074.65)
COURMETTES = Eye(7.026486331, 43.71559208, 839.15)
VALBONNE = Eye(7.02793957, 43.6233636, 244.9)
T1_LEVENS = (7.21, 43.86)
WIDE_LENS = LensModel(projection="rectilinear", k1=-0.30, k2=0.08)
SQUARE_87 = 2 * math.degrees(math.atan(360 / 674.4193))  # VFOV of §9's 1280x720 camera


def geometry(
    eye: Eye,
    heading_deg: float,
    tilt_deg: float = -1.5,
    roll_deg: float = 0.0,
    lens: LensModel = WIDE_LENS,
) -> CameraGeometry:
    return CameraGeometry(
        latitude_deg=eye.latitude_deg,
        longitude_deg=eye.longitude_deg,
        lens_altitude_m=eye.altitude_m,
        azimuth_deg=heading_deg % 360,
        tilt_deg=tilt_deg,
        roll_deg=roll_deg,
        hfov_deg=87,
        vfov_deg=44,
        image_width_px=1920,
        image_height_px=1080,
        lens=lens,
    )


def sighting(
    site: str,
    eye: Eye,
    target: Eye,
    heading_offset_deg: float = 10.0,
    heading_error_deg: float = 0.0,
    tilt_error_deg: float = 0.0,
) -> Sighting:
    """The box whose bottom centre is exactly the target; the geometry handed over may carry
    a heading / tilt error."""
    azimuth, _, distance = GEOD.inv(
        eye.longitude_deg, eye.latitude_deg, target.longitude_deg, target.latitude_deg
    )
    elevation = apparent_elevation_deg(eye, target, distance)
    true = geometry(eye, azimuth + heading_offset_deg)
    u, v = CameraModel.from_geometry(true).direction_to_pixel(azimuth, elevation)
    x, y = float(u) / 1920, float(v) / 1080
    box = BoundingBox(
        x_min=x - 0.003,
        x_max=x + 0.003,
        y_min=y - 0.03,
        y_max=y,
        score=0.9,
        detection_class=DetectionClass.SMOKE,
    )
    observed = true.model_copy(
        update={
            "azimuth_deg": (true.azimuth_deg + heading_error_deg) % 360,
            "tilt_deg": true.tilt_deg + tilt_error_deg,
        }
    )
    return Sighting(f"{site}/cam-1", observed, box, datetime(2026, 7, 1, 12, tzinfo=UTC))
