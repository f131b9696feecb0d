"""From a smoke box to the azimuth and elevation of the smoke base, with a 1-sigma budget.

Angles are degrees: azimuth clockwise from true (geodetic) north in [0, 360), elevation above
the local horizontal. The smoke base is the bottom centre of the box (research note §2.4): the
column of the base, not the box centre, and the bottom of the plume for the elevation. The
1-sigma budget adds in quadrature (§2.6):

    sigma_A^2 = sigma_heading^2 + (sigma_px * IFOV_x)^2 + (sigma_roll * y)^2 + sigma_base^2
    sigma_e^2 = sigma_tilt^2 + (sigma_px * IFOV_y)^2 + (sigma_roll * x)^2

where x, y are the normalised offsets of the base from the image centre and sigma_base is the
spread of a base column anywhere across the box: box angular width / sqrt(12).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import contracts
from central.geo.camera_model import CameraModel


@dataclass(frozen=True, slots=True)
class BearingPriors:
    """Calibration quality of the cameras (1-sigma, degrees) and of the box edges (pixels).

    The defaults are a camera calibrated on landmarks or the skyline (research note §2.6):
    0.3 deg heading, 0.1 deg tilt, 0.05 deg roll.
    """

    heading_sigma_deg: float = 0.3
    tilt_sigma_deg: float = 0.1
    roll_sigma_deg: float = 0.05
    pixel_sigma_px: float = 1.0


DEFAULT_PRIORS = BearingPriors()


@dataclass(frozen=True, slots=True)
class BoxBearing:
    azimuth_deg: float
    elevation_deg: float
    azimuth_sigma_deg: float
    elevation_sigma_deg: float
    width_deg: float = 0.0  # angular width of the box at its base row


@dataclass(frozen=True, slots=True)
class CameraBearing:
    """What one camera says about the smoke, in the terms a lookout uses.

    ``range_interval_m`` is the ground distance interval from the DEM ray cast at elevation
    ±2 sigma (``None`` when no terrain was available); its upper bound is ``None`` when the
    raised ray never meets the ground (open interval).
    """

    camera_key: str
    azimuth_deg: float
    azimuth_sigma_deg: float
    elevation_deg: float
    elevation_sigma_deg: float
    range_interval_m: tuple[float, float | None] | None
    lookout_text: str


def box_bearing(
    model: CameraModel, box: contracts.BoundingBox, priors: BearingPriors = DEFAULT_PRIORS
) -> BoxBearing:
    """Direction of the smoke base of ``box`` (normalised to the frame) seen by ``model``."""
    u = (box.x_min + box.x_max) / 2 * model.width_px
    v = box.y_max * model.height_px
    # The base centre and the base's two ends, in one call (this runs for every alert ingested).
    azimuths, elevations = model.pixel_to_direction(
        np.array([u, box.x_min * model.width_px, box.x_max * model.width_px]), np.full(3, v)
    )
    azimuth, elevation, left, right = azimuths[0], elevations[0], azimuths[1], azimuths[2]
    width_deg = abs(float((right - left + 180.0) % 360.0 - 180.0))
    ifov_x_deg, ifov_y_deg = model.ifov_deg()
    x = (u - model.cx_px) / model.fx_px
    y = (v - model.cy_px) / model.fy_px
    azimuth_sigma = math.sqrt(
        priors.heading_sigma_deg**2
        + (priors.pixel_sigma_px * ifov_x_deg) ** 2
        + (priors.roll_sigma_deg * y) ** 2
        + width_deg**2 / 12
    )
    elevation_sigma = math.sqrt(
        priors.tilt_sigma_deg**2
        + (priors.pixel_sigma_px * ifov_y_deg) ** 2
        + (priors.roll_sigma_deg * x) ** 2
    )
    return BoxBearing(
        azimuth_deg=float(azimuth),
        elevation_deg=float(elevation),
        azimuth_sigma_deg=azimuth_sigma,
        elevation_sigma_deg=elevation_sigma,
        width_deg=width_deg,
    )


def lookout_text(site_name: str, azimuth_deg: float) -> str:
    """The bearing as a lookout says it on the radio: "cabanelle : dans mes 296°"."""
    return f"{site_name} : dans mes {round(azimuth_deg) % 360}°"
