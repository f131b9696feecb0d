"""From a smoke box to the azimuth and elevation of the smoke base, with a 1-sigma budget.

Angles are degrees: azimuth clockwise from true (geodetic) north in [0, 360), elevation above
the local horizontal. See research note geolocation-methods §2.4 and §2.6.
"""

from __future__ import annotations

from dataclasses import dataclass


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
