from __future__ import annotations

import math
from datetime import timedelta

import pytest

import contracts
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
) -> IncidentView:
    return IncidentView(incident_id, T0 - timedelta(seconds=age_s), tuple(cones), point)


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
    camera = geometry(CABANELLE, azimuth_deg).model_copy(
        update={"lens": contracts.LensModel(projection=projection)}  # type: ignore[arg-type]
    )
    result = cone_from_box("s/c", camera, box(center_x, width=0.02), margin_deg=0.0)
    # the cone is centred between the directions of the box edges: within 0.01 deg of the
    # direction of the centre column for a box this narrow
    assert result.azimuth_deg == pytest.approx(expected_azimuth_deg, abs=0.01)


def test_cone_half_width_is_half_the_box_plus_the_margin() -> None:
    result = cone_from_box("s/c", geometry(CABANELLE, 90.0), box(0.5, width=0.1), margin_deg=2.0)
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
            [view(1, towards_t2(CABANELLE), age_s=900), view(2, towards_t2(COURMETTES), age_s=10)],
            1,
        ),
        # equally strong: the most recently active incident
        (
            towards_t2(VALBONNE),
            [view(1, towards_t2(CABANELLE), age_s=900), view(2, towards_t2(COURMETTES), age_s=10)],
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
