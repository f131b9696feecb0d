from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest

import contracts
from central.geo.crs import GEOD
from central.incidents.clustering import (
    BearingCone,
    ClusterConfig,
    IncidentView,
    LocatedPoint,
    angular_difference_deg,
    choose_incident,
    cone_from_box,
)
from tests.unit.central.builders import (
    CABANELLE,
    COURMETTES,
    T0,
    T2_LATITUDE_DEG,
    T2_LONGITUDE_DEG,
    VALBONNE,
    Site,
    bearing_deg,
    box,
    geometry,
)

CONFIG = ClusterConfig(window_s=1800, max_range_m=40_000, margin_deg=2.0)


def cone(site: Site, azimuth_deg: float, camera_id: str = "cam-1") -> BearingCone:
    return cone_from_box(
        f"{site.site_id}/{camera_id}", geometry(site, azimuth_deg), box(), CONFIG.margin_deg
    )


def towards_t2(site: Site, offset_deg: float = 0.0, camera_id: str = "cam-1") -> BearingCone:
    return cone(site, bearing_deg(site, T2_LATITUDE_DEG, T2_LONGITUDE_DEG) + offset_deg, camera_id)


def view(
    incident_id: int,
    *cones: BearingCone,
    point: LocatedPoint | None = None,
    age_s: float = 60,
    camera_ages_s: dict[str, float] | None = None,
) -> IncidentView:
    """An incident last seen ``age_s`` ago; ``camera_ages_s``: when each camera last saw it."""
    seen_at = {key: T0 - timedelta(seconds=age) for key, age in (camera_ages_s or {}).items()}
    return IncidentView(incident_id, T0 - timedelta(seconds=age_s), tuple(cones), point, seen_at)


T2_POINT = LocatedPoint(T2_LATITUDE_DEG, T2_LONGITUDE_DEG, 500.0)


@pytest.mark.parametrize(
    ("azimuth_deg", "center_x", "projection", "expected_azimuth_deg"),
    [
        (90.0, 0.5, "rectilinear", 90.0),
        # right quarter of a 60 deg rectilinear lens: atan(0.5 tan 30 deg) = 16.102 deg
        (90.0, 0.75, "rectilinear", 106.102),
        # the same column on an equidistant lens is linear in angle: 15 deg
        (90.0, 0.75, "equidistant", 105.0),
        # wrap at 360: 355 + 16.102
        (355.0, 0.75, "rectilinear", 11.102),
        # wrap below 0: 5 - 16.102
        (5.0, 0.25, "rectilinear", 348.898),
    ],
)
def test_cone_azimuth_of_the_box_centre(
    azimuth_deg: float, center_x: float, projection: str, expected_azimuth_deg: float
) -> None:
    camera = level(geometry(CABANELLE, azimuth_deg)).model_copy(
        update={"lens": contracts.LensModel(projection=projection)}  # type: ignore[arg-type]
    )
    result = cone_from_box("s/c", camera, base_on_horizon(center_x, 0.02), margin_deg=0.0)
    assert result.azimuth_deg == pytest.approx(expected_azimuth_deg, abs=0.001)


def level(camera: contracts.CameraGeometry) -> contracts.CameraGeometry:
    return camera.model_copy(update={"tilt_deg": 0.0})


def base_on_horizon(center_x: float, width: float) -> contracts.BoundingBox:
    """A box standing on the image's middle row: on a level camera, the horizon."""
    return box(center_x, width).model_copy(update={"y_min": 0.4, "y_max": 0.5})


def test_cone_follows_the_camera_model_off_the_horizon_row() -> None:
    # Tilted 2 deg down, a base below the middle row is not on the horizon: the flat
    # atan(x tan(hfov/2)) law is off by 0.016 deg here, up to degrees at a wide lens' corners.
    tilted = cone_from_box("s/c", geometry(CABANELLE, 90.0), box(0.75, width=0.02), 0.0)
    flat = cone_from_box("s/c", level(geometry(CABANELLE, 90.0)), base_on_horizon(0.75, 0.02), 0.0)
    assert tilted.azimuth_deg - flat.azimuth_deg == pytest.approx(0.016, abs=0.002)


def test_cone_half_width_is_half_the_box_plus_the_margin() -> None:
    camera = level(geometry(CABANELLE, 90.0))
    result = cone_from_box("s/c", camera, base_on_horizon(0.5, 0.1), margin_deg=2.0)
    half_box_deg = math.degrees(math.atan(0.1 * math.tan(math.radians(30))))
    assert result.half_width_deg == pytest.approx(half_box_deg)
    assert result.gate_half_width_deg == pytest.approx(half_box_deg + 2.0)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(10, 350, 20), (350, 10, -20), (180, 0, -180), (0, 180, -180), (90, 90, 0), (359.5, 0.5, -1)],
)
def test_angular_difference_wraps(a: float, b: float, expected: float) -> None:
    assert angular_difference_deg(a, b) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("new", "candidates", "expected"),
    [
        # courmettes' cone crosses cabanelle's over T2: the same fire
        (towards_t2(COURMETTES), [view(1, towards_t2(CABANELLE))], 1),
        # courmettes looking the other way: their cones never meet
        (towards_t2(COURMETTES, 180.0), [view(1, towards_t2(CABANELLE))], None),
        # a triangulated point: valbonne's cone passes through it...
        (towards_t2(VALBONNE), [view(1, towards_t2(CABANELLE), point=T2_POINT)], 1),
        # ...or misses it by 20 deg (5 km at 15.7 km), though it crosses cabanelle's cone
        (towards_t2(VALBONNE, 20.0), [view(1, towards_t2(CABANELLE), point=T2_POINT)], None),
        # same camera, a new event at the same bearing (edge restarted)
        (towards_t2(CABANELLE), [view(1, towards_t2(CABANELLE, 1.0))], 1),
        # same camera 4 deg away: boxes 2.6 deg wide do not touch, another smoke (no
        # calibration margin within one camera; across cameras it would be 4 deg)
        (towards_t2(CABANELLE), [view(1, towards_t2(CABANELLE, 4.0))], None),
        # same camera 30 deg away: another smoke, even if other cameras' cones would cross
        (
            towards_t2(CABANELLE, 30.0),
            [view(1, towards_t2(CABANELLE), towards_t2(COURMETTES))],
            None,
        ),
        # outside the 30 min window
        (towards_t2(COURMETTES), [view(1, towards_t2(CABANELLE), age_s=1801)], None),
        # the strongest rule wins over recency: same camera (older) before mere cone overlap
        (
            towards_t2(CABANELLE),
            [view(1, towards_t2(CABANELLE), age_s=500), view(2, towards_t2(COURMETTES), age_s=10)],
            1,
        ),
        # equally strong: the most recently active incident
        (
            towards_t2(VALBONNE),
            [view(1, towards_t2(CABANELLE), age_s=500), view(2, towards_t2(COURMETTES), age_s=10)],
            2,
        ),
        # no candidates at all
        (towards_t2(CABANELLE), [], None),
    ],
)
def test_choose_incident(
    new: BearingCone, candidates: list[IncidentView], expected: int | None
) -> None:
    assert choose_incident(new, T0, candidates, CONFIG) == expected


def test_a_sighting_without_a_box_starts_its_own_incident() -> None:
    assert choose_incident(None, T0, [view(1, towards_t2(CABANELLE))], CONFIG) is None


def test_three_cameras_must_share_a_common_area() -> None:
    # cabanelle and courmettes cross over T2; valbonne aimed 60 deg off crosses each of them
    # somewhere, but not where they cross each other.
    incident = view(1, towards_t2(CABANELLE), towards_t2(COURMETTES))
    assert choose_incident(towards_t2(VALBONNE, 60.0), T0, [incident], CONFIG) is None
    assert choose_incident(towards_t2(VALBONNE), T0, [incident], CONFIG) == 1


def ranged(cone: BearingCone, near_m: float, far_m: float | None) -> BearingCone:
    return replace(cone, range_m=(near_m, far_m))


def distance_to_t2_m(site: Site) -> float:
    return float(
        GEOD.inv(site.longitude_deg, site.latitude_deg, T2_LONGITUDE_DEG, T2_LATITUDE_DEG)[2]
    )


@pytest.mark.parametrize(
    ("near_km", "far_km", "joins"),
    [
        (None, None, True),  # no terrain: the whole 40 km cone
        (-2.0, 2.0, True),  # the terrain interval holds T2
        (-2.0, None, True),  # open interval beyond a near end before T2
        # The terrain puts the smoke base 6 km or more beyond T2, or 5 to 10 km short of it:
        # beyond the 10 % + 300 m slack and the ~2 km the two wide cones share along the bearing.
        (6.0, None, False),
        (-10.0, -5.0, False),
    ],
)
def test_a_terrain_interval_cuts_the_cone(
    near_km: float | None, far_km: float | None, joins: bool
) -> None:
    # courmettes saw smoke towards T2 with a distance interval from the DEM; cabanelle's cone
    # crosses courmettes' at T2 only
    first = towards_t2(COURMETTES)
    if near_km is not None:
        base_m = distance_to_t2_m(COURMETTES)
        far_m = None if far_km is None else base_m + 1000 * far_km
        first = ranged(first, base_m + 1000 * near_km, far_m)
    chosen = choose_incident(towards_t2(CABANELLE), T0, [view(1, first)], CONFIG)
    assert (chosen == 1) is joins


@pytest.mark.parametrize(
    ("first_km", "second_km", "joins"),
    [
        ((14.0, 15.0), (14.5, None), True),  # same camera, same direction, overlapping distances
        ((5.0, 6.0), (14.0, 15.0), False),  # same direction, 8 km apart: two fires
        ((5.0, None), (14.0, 15.0), True),  # open interval (a ridge may hide the base): ambiguous
    ],
)
def test_one_camera_separates_fires_in_one_direction_by_terrain_distance(
    first_km: tuple[float, float | None], second_km: tuple[float, float | None], joins: bool
) -> None:
    def at(cone: BearingCone, km: tuple[float, float | None]) -> BearingCone:
        near, far = km
        return ranged(cone, 1000 * near, None if far is None else 1000 * far)

    incident = view(1, at(towards_t2(CABANELLE, 0.5), first_km))
    chosen = choose_incident(at(towards_t2(CABANELLE), second_km), T0, [incident], CONFIG)
    assert (chosen == 1) is joins


@pytest.mark.parametrize(
    ("offset_km", "joins"),
    [
        (0.0, True),  # the terrain puts the new smoke base at the triangulated point
        (8.0, False),  # same direction, 8 km further: a fire behind the located one
        (None, True),  # no terrain interval: the cone passes through the point
    ],
)
def test_a_located_point_binds_the_camera_that_helped_locate_it(
    offset_km: float | None, joins: bool
) -> None:
    # cabanelle and courmettes triangulated the smoke at T2; cabanelle sees a new event in the
    # same direction. Its earlier cone (open beyond 10 km) alone would take it at any distance.
    incident = view(
        1,
        ranged(towards_t2(CABANELLE), 10_000.0, None),
        towards_t2(COURMETTES),
        point=T2_POINT,
    )
    new = towards_t2(CABANELLE)
    if offset_km is not None:
        base_m = distance_to_t2_m(CABANELLE) + 1000 * offset_km
        new = ranged(new, base_m - 1000.0, base_m + 1000.0)
    assert (choose_incident(new, T0, [incident], CONFIG) == 1) is joins


CABANELLE_KEY, COURMETTES_KEY = "cabanelle/cam-1", "courmettes/cam-1"


@pytest.mark.parametrize(
    ("new", "incident", "expected"),
    [
        # Same camera, same direction: the same smoke while the camera saw it 9 min ago...
        (towards_t2(CABANELLE), view(1, towards_t2(CABANELLE), age_s=540), 1),
        # ...not on its own 11 min later: maybe a fire behind the first; a new incident
        (towards_t2(CABANELLE), view(1, towards_t2(CABANELLE), age_s=660), None),
        # ...unless a located point vouches for it (the whole 30 min window)
        (towards_t2(CABANELLE), view(1, towards_t2(CABANELLE), point=T2_POINT, age_s=1200), 1),
        # Another camera's cone vouches only while recent: courmettes saw it 5 min ago...
        (
            towards_t2(COURMETTES),
            view(1, towards_t2(CABANELLE), camera_ages_s={CABANELLE_KEY: 300}),
            1,
        ),
        # ...not 15 min ago (the incident, seen by cabanelle alone, has no point)
        (towards_t2(COURMETTES), view(1, towards_t2(CABANELLE), age_s=900), None),
        # An old sighting still refuses: cabanelle saw this incident 30 deg away 20 min ago,
        # though courmettes' recent cone crosses the new one
        (
            towards_t2(CABANELLE),
            view(
                1,
                towards_t2(CABANELLE, 30.0),
                towards_t2(COURMETTES),
                camera_ages_s={CABANELLE_KEY: 1200, COURMETTES_KEY: 60},
            ),
            None,
        ),
    ],
)
def test_a_sighting_vouches_for_a_new_event_only_while_recent(
    new: BearingCone, incident: IncidentView, expected: int | None
) -> None:
    assert choose_incident(new, T0, [incident], CONFIG) == expected
