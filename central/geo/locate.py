"""The Locator: alerts' boxes from one or more cameras -> a located, attributed smoke estimate.

Method, best first: ``triangulation`` (two or more cameras with a usable cut angle),
``terrain`` (one camera + DEM, when the ray-cast quality gates pass), ``bearing_only`` (a
bearing and, where the DEM allows, a distance interval), ``none`` (no usable sighting).
Positions are WGS84 (EPSG:4326) degrees; the ellipse is 1-sigma, semi-axes in metres,
orientation of the major axis in degrees clockwise from true north.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import contracts
from central.geo.attribution import Attribution
from central.geo.bearing import CameraBearing
from central.geo.geodata import GeoData

Method = Literal["triangulation", "terrain", "bearing_only", "none"]


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
    orientation_deg: float | None  # major axis, clockwise from true north
    bearings: tuple[CameraBearing, ...]
    degenerate: str | None  # named reason when degraded, e.g. "cut_angle_below_30deg"
    attribution: Attribution | None

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError


class Locator:
    def __init__(self, geodata: GeoData) -> None:
        self._geodata = geodata

    def locate(self, sightings: Sequence[Sighting]) -> LocationEstimate:
        raise NotImplementedError
