"""The Locator end to end on synthetic sightings over the real DEM."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from central.geo import GeoData, LocationEstimate, Locator, Sighting
from central.geo.bearing import box_bearing, lookout_text
from central.geo.camera_model import CameraModel
from central.geo.crs import GEOD
from central.geo.raymarch import Eye
from contracts import BoundingBox, DetectionClass
from tests.unit.central.geo.support import CABANELLE, COURMETTES, VALBONNE, geometry, sighting

# A slope facing cabanelle 8.2 km away (research note §9.4, cabanelle 262 / -4).
SLOPE = Eye(7.318546, 43.776311, 504.7)
LEVENS = Eye(7.21, 43.86, 330.0)
UPPER_VESUBIE = Eye(7.40, 44.10, 2500.0)  # north of the DEM


def error_m(estimate: LocationEstimate, target: Eye) -> float:
    assert estimate.longitude_deg is not None
    assert estimate.latitude_deg is not None
    return float(
        GEOD.inv(
            estimate.longitude_deg, estimate.latitude_deg, target.longitude_deg, target.latitude_deg
        )[2]
    )


def test_two_cameras_triangulate(geodata: GeoData) -> None:
    estimate = Locator(geodata).locate(
        [sighting("cabanelle", CABANELLE, LEVENS), sighting("courmettes", COURMETTES, LEVENS)]
    )
    assert estimate.method == "triangulation"
    assert estimate.degenerate is None
    assert error_m(estimate, LEVENS) < 5
    assert estimate.semi_major_m is not None
    assert estimate.semi_minor_m is not None
    assert 0 < estimate.semi_minor_m <= estimate.semi_major_m < 400
    assert estimate.attribution is not None
    assert estimate.attribution.dfci_code == "LD88G2"
    assert estimate.attribution.commune == "Levens"
    assert estimate.attribution.massif == "Var valley (lower)"
    assert [b.lookout_text for b in estimate.bearings] == [
        "cabanelle : dans mes 296°",
        "courmettes : dans mes 43°",
    ]


def test_calibration_errors_move_the_fix_by_hundreds_of_metres(geodata: GeoData) -> None:
    estimate = Locator(geodata).locate(
        [
            sighting("cabanelle", CABANELLE, LEVENS, heading_error_deg=0.3),
            sighting("courmettes", COURMETTES, LEVENS, heading_error_deg=-0.3),
        ]
    )
    assert estimate.method == "triangulation"
    assert 20 < error_m(estimate, LEVENS) < 300


def test_three_cameras_use_all_bearings(geodata: GeoData) -> None:
    sightings = [
        sighting("cabanelle", CABANELLE, LEVENS, heading_error_deg=0.2),
        sighting("courmettes", COURMETTES, LEVENS, heading_error_deg=-0.2),
        sighting("valbonne", VALBONNE, LEVENS, heading_error_deg=0.1),
    ]
    estimate = Locator(geodata).locate(sightings)
    assert estimate.method == "triangulation"
    assert len(estimate.bearings) == 3
    assert error_m(estimate, LEVENS) < 200


def test_one_camera_on_a_steep_slope_gives_a_terrain_point(geodata: GeoData) -> None:
    estimate = Locator(geodata).locate([sighting("cabanelle", CABANELLE, SLOPE)])
    assert estimate.method == "terrain"
    assert error_m(estimate, SLOPE) < 60
    (bearing,) = estimate.bearings
    assert bearing.range_interval_m is not None
    near, far = bearing.range_interval_m
    assert far is not None
    assert near < 8_220 < far


def test_one_camera_with_a_tilt_error_stays_within_the_interval(geodata: GeoData) -> None:
    estimate = Locator(geodata).locate(
        [sighting("cabanelle", CABANELLE, SLOPE, tilt_error_deg=0.1)]
    )
    assert estimate.method == "terrain"
    assert error_m(estimate, SLOPE) < 300


def test_north_of_the_dem_is_bearing_only(geodata: GeoData) -> None:
    estimate = Locator(geodata).locate([sighting("cabanelle", CABANELLE, UPPER_VESUBIE)])
    assert estimate.method == "bearing_only"
    assert estimate.degenerate == "no_terrain_data"
    assert estimate.latitude_deg is None
    assert estimate.attribution is None
    assert estimate.bearings[0].azimuth_sigma_deg > 0


def test_without_any_dem_one_camera_is_bearing_only(geodata: GeoData) -> None:
    flat = dataclasses.replace(geodata, dem=None)
    one = Locator(flat).locate([sighting("cabanelle", CABANELLE, SLOPE)])
    assert one.method == "bearing_only"
    assert one.degenerate == "no_terrain_data"
    assert one.bearings[0].range_interval_m is None
    two = Locator(flat).locate(
        [sighting("cabanelle", CABANELLE, LEVENS), sighting("courmettes", COURMETTES, LEVENS)]
    )
    assert two.method == "triangulation"


def test_cameras_on_one_mast_fall_back_to_terrain(geodata: GeoData) -> None:
    first = sighting("cabanelle", CABANELLE, SLOPE)
    second = dataclasses.replace(
        sighting("cabanelle", CABANELLE, SLOPE, heading_offset_deg=-20),
        camera_key="cabanelle/cam-2",
    )
    estimate = Locator(geodata).locate([first, second])
    assert estimate.degenerate == "colocated_cameras"
    assert estimate.method == "terrain"


def test_near_collinear_cameras_are_flagged(geodata: GeoData) -> None:
    falicon = Eye(7.26037, 43.75561, 437.4)  # on the cabanelle-courmettes baseline
    estimate = Locator(geodata).locate(
        [sighting("cabanelle", CABANELLE, falicon), sighting("courmettes", COURMETTES, falicon)]
    )
    assert estimate.degenerate == "cut_angle_below_30deg"
    assert estimate.method in {"terrain", "bearing_only"}


def test_weak_cut_still_gives_a_flagged_fix(geodata: GeoData) -> None:
    """courmettes and valbonne (10 km apart) on a point in Nice 20 km east: 27.6 deg cut."""
    nice = Eye(7.28, 43.70, 23.0)
    estimate = Locator(geodata).locate(
        [
            sighting("courmettes", COURMETTES, nice, heading_error_deg=0.2),
            sighting("valbonne", VALBONNE, nice, heading_error_deg=-0.2),
        ]
    )
    assert estimate.degenerate == "cut_angle_below_30deg"
    assert estimate.method == "triangulation"
    assert estimate.semi_major_m is not None
    assert error_m(estimate, nice) < 2 * estimate.semi_major_m


def test_no_sightings(geodata: GeoData) -> None:
    estimate = Locator(geodata).locate([])
    assert estimate.method == "none"
    assert estimate.degenerate == "no_sightings"


def test_folded_lens_is_left_out_not_fatal(
    geodata: GeoData, caplog: pytest.LogCaptureFixture
) -> None:
    good = sighting("cabanelle", CABANELLE, SLOPE)
    broken = sighting("courmettes", COURMETTES, SLOPE)
    lens = broken.geometry.lens.model_copy(update={"k1": -3.0})
    broken = dataclasses.replace(broken, geometry=broken.geometry.model_copy(update={"lens": lens}))
    estimate = Locator(geodata).locate([good, broken])
    assert estimate.method == "terrain"
    assert [b.camera_key for b in estimate.bearings] == ["cabanelle/cam-1"]
    assert "courmettes/cam-1 left out" in caplog.text
    alone = Locator(geodata).locate([broken])
    assert alone.method == "none"
    assert alone.degenerate == "bad_camera_geometry"


def test_latest_sighting_of_a_camera_wins(geodata: GeoData) -> None:
    old = sighting("cabanelle", CABANELLE, LEVENS)
    old = dataclasses.replace(old, captured_at=old.captured_at - timedelta(minutes=5))
    new = sighting("cabanelle", CABANELLE, SLOPE)
    estimate = Locator(geodata).locate([new, old])
    assert len(estimate.bearings) == 1
    assert estimate.bearings[0].azimuth_deg == pytest.approx(262.0, abs=0.05)


def test_to_json_is_serialisable(geodata: GeoData) -> None:
    estimate = Locator(geodata).locate(
        [sighting("cabanelle", CABANELLE, LEVENS), sighting("courmettes", COURMETTES, LEVENS)]
    )
    data = json.loads(json.dumps(estimate.to_json()))
    assert data["method"] == "triangulation"
    assert data["ellipse_sigma"] == 1
    assert data["attribution"]["dfci_touched"][0] == "LD88G2"
    assert data["attribution"]["nearest_stations"][0]["distance_m"] > 0
    assert len(data["bearings"]) == 2
    bearing_only = Locator(geodata).locate([sighting("cabanelle", CABANELLE, UPPER_VESUBIE)])
    assert json.loads(json.dumps(bearing_only.to_json()))["latitude_deg"] is None


def test_box_bearing_budget_grows_with_box_width() -> None:
    model = CameraModel.from_geometry(geometry(CABANELLE, 250.0))
    narrow = BoundingBox(
        x_min=0.49,
        x_max=0.51,
        y_min=0.4,
        y_max=0.5,
        score=0.9,
        detection_class=DetectionClass.SMOKE,
    )
    wide = narrow.model_copy(update={"x_min": 0.40, "x_max": 0.60})
    assert box_bearing(model, narrow).azimuth_deg == pytest.approx(250.0, abs=1e-6)
    assert (
        box_bearing(model, wide).azimuth_sigma_deg
        > 3 * box_bearing(model, narrow).azimuth_sigma_deg
    )
    assert box_bearing(model, narrow).elevation_sigma_deg == pytest.approx(0.1, abs=0.05)


@pytest.mark.parametrize(
    ("azimuth", "text"), [(295.869, "dans mes 296°"), (359.7, "dans mes 0°"), (4.4, "dans mes 4°")]
)
def test_lookout_text(azimuth: float, text: str) -> None:
    assert lookout_text("cabanelle", azimuth) == f"cabanelle : {text}"


def test_sighting_type_is_what_central_builds() -> None:
    fields = {field.name for field in dataclasses.fields(Sighting)}
    assert fields == {"camera_key", "geometry", "box", "captured_at"}


def test_a_bearing_that_disagrees_is_left_out_and_named(geodata: GeoData) -> None:
    """Three cameras, one of them on another smoke 6 deg away: the fix comes from the other two,
    and the estimate names the odd camera (another fire an operator may split off)."""
    sightings = [
        sighting("cabanelle", CABANELLE, LEVENS),
        sighting("courmettes", COURMETTES, LEVENS),
        sighting("valbonne", VALBONNE, LEVENS, heading_error_deg=6.0),
    ]
    estimate = Locator(geodata).locate(sightings)
    assert estimate.method == "triangulation"
    assert estimate.degenerate == "bearing_disagrees"
    assert estimate.outlier_cameras == ("valbonne/cam-1",)
    assert estimate.to_json()["outlier_cameras"] == ["valbonne/cam-1"]
    assert error_m(estimate, LEVENS) < 5
