"""Which incident a new sighting belongs to: a pure, coarse geometric gate.

A sighting is reduced to a bearing cone (camera position, azimuth of the smoke base, half-width
of the box plus a margin). An incident accepts it when, within the time window:

1. the incident holds the same camera, which saw its smoke less than ``sighting_window_s``
   ago, and the two cones overlap in azimuth (and in distance, where the terrain gives both an
   interval);
2. else the incident has a located point (two cameras, or one camera on the terrain) and the
   cone passes within its uncertainty disc;
3. else the cone crosses the common area of the cones of the other cameras that saw the
   incident's smoke less than ``sighting_window_s`` ago (within the maximum range).

A located point binds rule 1 too: a camera's new cone that overlaps its earlier one but whose
terrain interval misses the point is another smoke further along the same direction. A camera's
earlier sighting in another direction refuses the new event at any age.

The sighting window comes from ``vigifeu bench ingest --fire-spacing-s 1800`` (a new fire every
30 min in one area, each seen by two sites): with every cone vouching for the whole 30 min
window, 14 of 200 incidents held several fires; with 10 min, 3 (``docs/central.md``).

A cone may carry the ground-distance interval the terrain allows for the smoke base (one camera
+ DEM): the cone is then only the annular sector between those distances (with slack), so a
second camera's cone must cross it there, not anywhere within 40 km. Without it, two fires
burning at once in front of three lookouts were merged whenever a cone of one crossed a cone of
the other (``vigifeu bench ingest``: 60 fires gave 42 incidents without the interval, 52 with it).

The cone is the locator's bearing of the box (camera model with lens distortion, tilt and roll:
``central.geo.bearing``) widened by the box and a calibration margin. Cones are polygons in a
local equirectangular frame in metres about the new camera; over 40 km of the 06 its angle
distortion is under 0.2 deg.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from shapely import Point, Polygon

import contracts
from central.geo.bearing import box_bearing
from central.geo.camera_model import CameraModel

EARTH_RADIUS_M = 6_371_008.8
# Arc points of a cone polygon are at most this far apart in azimuth.
ARC_STEP_DEG = 1.0
# A located point accepts cones passing within 3 sigma of it, and never less than this:
# below ~500 m the gate would reject honest sightings of a wide smoke column.
MIN_POINT_RADIUS_M = 500.0
POINT_SIGMAS = 3.0
# Two boxes of one camera are the same smoke when their directions overlap within this: a plume
# that drifts or is re-detected moves by a fraction of a degree between events (0.5 deg is
# 11 px on a 1920 px, 87 deg view).
SAME_CAMERA_SLACK_DEG = 0.5
# The terrain interval is already +-2 sigma of elevation; the slack absorbs a tilt
# miscalibration and a plume base drawn a little low or high.
RANGE_SLACK_FRACTION = 0.1
RANGE_SLACK_M = 300.0


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    window_s: float = 1800.0
    max_range_m: float = 40_000.0
    margin_deg: float = 1.0  # ~3 sigma of a calibrated heading (0.3 deg)
    # How long after a camera last saw an incident's smoke its cone still vouches for a new
    # event (rules 1 and 3): the edge ends an event 5 min after its last confirmation, so 10 min
    # leaves 5 min to re-detect. Later only a located point can (rule 2): a duplicate is one
    # merge for an operator, a fire hidden in another incident may be found too late.
    sighting_window_s: float = 600.0


@dataclass(frozen=True, slots=True)
class BearingCone:
    """Directions in which one camera sees the smoke. Azimuths clockwise from true north."""

    camera_key: str
    latitude_deg: float
    longitude_deg: float
    azimuth_deg: float
    half_width_deg: float  # of the box alone
    margin_deg: float  # calibration and lens slack, added when comparing across cameras
    # Ground distance (near, far or None = open) where the terrain allows the smoke base.
    range_m: tuple[float, float | None] | None = None

    @property
    def gate_half_width_deg(self) -> float:
        return self.half_width_deg + self.margin_deg


@dataclass(frozen=True, slots=True)
class LocatedPoint:
    """WGS84 degrees and the radius (metres) within which a matching cone must pass."""

    latitude_deg: float
    longitude_deg: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class IncidentView:
    """What the gate knows of a candidate incident: its latest cone per camera, its point, and
    when each camera last saw its smoke (``last_seen_at`` for a camera it does not name)."""

    incident_id: int
    last_seen_at: datetime
    cones: tuple[BearingCone, ...]
    point: LocatedPoint | None
    camera_seen_at: Mapping[str, datetime] = field(default_factory=dict)

    def seen_by(self, camera_key: str) -> datetime:
        return self.camera_seen_at.get(camera_key, self.last_seen_at)


def point_radius_m(semi_major_m: float | None) -> float:
    if semi_major_m is None:
        return MIN_POINT_RADIUS_M
    return max(POINT_SIGMAS * semi_major_m, MIN_POINT_RADIUS_M)


def cone_from_box(
    camera_key: str,
    geometry: contracts.CameraGeometry,
    box: contracts.BoundingBox,
    margin_deg: float,
    range_m: tuple[float, float | None] | None = None,
) -> BearingCone:
    """The cone of a box; ValueError for a lens whose distortion folds the frame edge."""
    bearing = box_bearing(CameraModel.from_geometry(geometry), box)
    return BearingCone(
        camera_key=camera_key,
        latitude_deg=geometry.latitude_deg,
        longitude_deg=geometry.longitude_deg,
        azimuth_deg=bearing.azimuth_deg % 360,
        half_width_deg=bearing.width_deg / 2,
        margin_deg=margin_deg,
        range_m=range_m,
    )


def angular_difference_deg(a_deg: float, b_deg: float) -> float:
    """Signed ``a - b`` wrapped into [-180, 180)."""
    return (a_deg - b_deg + 180.0) % 360.0 - 180.0


def cones_overlap(a: BearingCone, b: BearingCone) -> bool:
    """Whether two boxes of the same camera share a direction (within ``SAME_CAMERA_SLACK_DEG``).

    No calibration margin: one camera's errors are the same in both sightings.
    """
    return abs(angular_difference_deg(a.azimuth_deg, b.azimuth_deg)) <= (
        a.half_width_deg + b.half_width_deg + SAME_CAMERA_SLACK_DEG
    )


def range_bounds_m(cone: BearingCone, max_range_m: float) -> tuple[float, float]:
    """Ground distances along the cone where the smoke base may be, slack included."""
    if cone.range_m is None:
        return 0.0, max_range_m
    near, far = cone.range_m
    near_m = max(0.0, near * (1 - RANGE_SLACK_FRACTION) - RANGE_SLACK_M)
    if far is None:
        return near_m, max_range_m
    return near_m, min(max_range_m, far * (1 + RANGE_SLACK_FRACTION) + RANGE_SLACK_M)


def same_smoke_of_one_camera(a: BearingCone, b: BearingCone, max_range_m: float) -> bool:
    """Two boxes of one camera: overlapping directions and, where the terrain says, distances."""
    if not cones_overlap(a, b):
        return False
    a_near, a_far = range_bounds_m(a, max_range_m)
    b_near, b_far = range_bounds_m(b, max_range_m)
    return a_near <= b_far and b_near <= a_far


@dataclass(frozen=True, slots=True)
class _LocalFrame:
    """Equirectangular metres (east, north) about a reference point."""

    latitude_deg: float
    longitude_deg: float

    def to_xy(self, latitude_deg: float, longitude_deg: float) -> tuple[float, float]:
        scale = math.cos(math.radians(self.latitude_deg))
        east = math.radians(longitude_deg - self.longitude_deg) * EARTH_RADIUS_M * scale
        north = math.radians(latitude_deg - self.latitude_deg) * EARTH_RADIUS_M
        return east, north

    def cone_polygon(self, cone: BearingCone, max_range_m: float) -> Polygon:
        """The cone up to ``max_range_m``, cut to its terrain distance interval when it has one."""
        x0, y0 = self.to_xy(cone.latitude_deg, cone.longitude_deg)
        near_m, far_m = range_bounds_m(cone, max_range_m)
        half_width_deg = cone.gate_half_width_deg
        steps = max(2, math.ceil(2 * half_width_deg / ARC_STEP_DEG) + 1)
        azimuths_rad = np.radians(
            np.linspace(
                cone.azimuth_deg - half_width_deg,
                cone.azimuth_deg + half_width_deg,
                steps,
            )
        )
        east, north = np.sin(azimuths_rad), np.cos(azimuths_rad)
        outer = list(zip(x0 + far_m * east, y0 + far_m * north, strict=True))
        if near_m <= 0.0:
            return Polygon([(x0, y0), *outer])
        inner = zip(x0 + near_m * east[::-1], y0 + near_m * north[::-1], strict=True)
        return Polygon([*outer, *inner])


def _match_rank(
    cone: BearingCone, view: IncidentView, captured_at: datetime, config: ClusterConfig
) -> int | None:
    """0, 1 or 2 by the rule that accepted ``cone`` (module docstring), None if rejected."""
    own = [c for c in view.cones if c.camera_key == cone.camera_key]
    # A camera's earlier sighting refuses another direction at any age...
    if own and not any(same_smoke_of_one_camera(cone, c, config.max_range_m) for c in own):
        return None
    # ...but vouches for a new event, like any camera's, only while recent.
    vouching = [
        c
        for c in view.cones
        if (captured_at - view.seen_by(c.camera_key)).total_seconds() <= config.sighting_window_s
    ]
    same_camera = any(c.camera_key == cone.camera_key for c in vouching)
    frame = _LocalFrame(cone.latitude_deg, cone.longitude_deg)
    polygon = frame.cone_polygon(cone, config.max_range_m)
    if view.point is not None:
        # A located point binds every camera, its own included: another fire further along the
        # same direction overlaps the camera's earlier cone but misses the point.
        disc = Point(frame.to_xy(view.point.latitude_deg, view.point.longitude_deg)).buffer(
            view.point.radius_m
        )
        if not polygon.intersects(disc):
            return None
        return 0 if same_camera else 1
    if same_camera:
        return 0
    others = [c for c in vouching if c.camera_key != cone.camera_key]
    if not others:
        return None
    common = polygon
    for other in others:
        common = common.intersection(frame.cone_polygon(other, config.max_range_m))
        if common.is_empty or common.area == 0.0:
            return None
    return 2


def in_window(captured_at: datetime, last_seen_at: datetime, config: ClusterConfig) -> bool:
    """Whether a sighting at ``captured_at`` may join an incident last seen at ``last_seen_at``."""
    return abs((captured_at - last_seen_at).total_seconds()) <= config.window_s


def choose_incident(
    cone: BearingCone | None,
    captured_at: datetime,
    candidates: Sequence[IncidentView],
    config: ClusterConfig,
) -> int | None:
    """The incident a new event joins, or None for a new incident.

    Candidates outside the time window are ignored. Among the accepted ones the strongest rule
    wins (same camera, then located point, then cone overlap), then the most recent. A
    sighting without a box (``cone`` None) never joins another event's incident.
    """
    if cone is None:
        return None
    accepted: list[tuple[int, float, int]] = []
    for view in candidates:
        if not in_window(captured_at, view.last_seen_at, config):
            continue
        rank = _match_rank(cone, view, captured_at, config)
        if rank is not None:
            accepted.append((rank, -view.last_seen_at.timestamp(), view.incident_id))
    return min(accepted)[2] if accepted else None
