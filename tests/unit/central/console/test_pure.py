"""Pure pieces of the console and the label export: map drawing, cells, changes, YOLO lines."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET

import pytest

from central.console.export import _cell
from central.console.mapsvg import (
    DEFAULT_RAY_M,
    MapCamera,
    MapEstimate,
    MapLayer,
    MapRay,
    MapScene,
    render_map,
)
from central.console.views import location_caveat
from central.db import Location
from central.events_bus import Change
from central.incidents.service import IngestOutcome, IngestResult
from central.ingest.handler import Handled, HandledKind, change_of
from central.labels import assign_splits, yolo_lines

CAMERA = MapCamera("cabanelle/nord", 43.7866, 7.4196)
SQUARE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Paillon"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[7.1, 43.6], [7.4, 43.6], [7.4, 43.8], [7.1, 43.8], [7.1, 43.6]]],
            },
        },
        {  # far away: clipped out of the view
            "type": "Feature",
            "properties": {"name": "Loin"},
            "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
        },
    ],
}


def test_map_draws_layers_rays_and_ellipse() -> None:
    scene = MapScene(
        [MapLayer.from_geojson("massifs", SQUARE, "name")],
        rays=[MapRay(CAMERA, 238.8, 0.5, (16_000.0, 19_000.0))],
        estimates=[MapEstimate(43.69, 7.20, 400.0, 150.0, 30.0, "n° 1")],
        cameras=[CAMERA],
    )
    svg = render_map(scene)
    root = ET.fromstring(svg)  # well-formed
    assert root.get("viewBox") == "0 0 800 600"
    assert "Paillon" in svg
    assert "Loin" not in svg
    assert svg.count('class="bearing-range"') == 1
    assert "dans mes 239°" in svg
    # Major axis 30 deg clockwise from north is -60 deg from SVG's +x axis.
    assert re.search(r'class="ellipse-1s"[^>]*rotate\(-60\.0 ', svg)


def test_ray_without_terrain_has_no_solid_stretch_and_a_bounded_length() -> None:
    far_scene = MapScene([], rays=[MapRay(CAMERA, 90.0, 0.5)], cameras=[CAMERA])
    assert 'class="bearing-range"' not in render_map(far_scene)
    near = MapScene(
        [],
        rays=[MapRay(CAMERA, 238.8, 0.5)],
        estimates=[MapEstimate(43.75, 7.37, None, None, None)],
        cameras=[CAMERA],
    )
    assert render_map(near)  # the ray stops past the estimate, well short of DEFAULT_RAY_M
    assert DEFAULT_RAY_M == 40_000.0


def test_an_empty_scene_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        render_map(MapScene([]))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (("a", "b"), "a ; b"),
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),  # spreadsheet formula neutralised
        ("-1.5", "-1.5"),  # a negative number stays a number
        ("@cmd", "'@cmd"),
        (42, "42"),
    ],
)
def test_csv_cells(value: object, expected: str) -> None:
    assert _cell(value) == expected


def _alert_result(outcome: IngestOutcome, created: bool) -> Handled:
    result = IngestResult(outcome, uuid.uuid4(), 12, incident_created=created)
    return Handled(HandledKind.ALERT, camera_key="a/b", alert=result)


@pytest.mark.parametrize(
    ("handled", "expected"),
    [
        (_alert_result(IngestOutcome.STORED, True), Change("incident", "12", "created")),
        (_alert_result(IngestOutcome.STORED, False), Change("incident", "12", "updated")),
        (_alert_result(IngestOutcome.DUPLICATE, False), None),  # nothing new to show
        (Handled(HandledKind.HEARTBEAT, camera_key="a/b"), Change("camera", "a/b")),
        (Handled(HandledKind.QUARANTINED, reason="bad"), None),
    ],
)
def test_ingest_changes_for_live_pages(handled: Handled, expected: Change | None) -> None:
    assert change_of(handled) == expected


def test_yolo_lines() -> None:
    boxes = [
        {"x_min": 0.5, "y_min": 0.4, "x_max": 0.7, "y_max": 0.6, "detection_class": "smoke"},
        {"x_min": -0.1, "y_min": 0.0, "x_max": 0.1, "y_max": 0.2, "detection_class": "fire"},
        {"x_min": 1.0, "y_min": 0.0, "x_max": 1.2, "y_max": 0.2, "detection_class": "smoke"},
    ]
    assert yolo_lines(boxes) == [
        "0 0.600000 0.500000 0.200000 0.200000",
        "1 0.050000 0.100000 0.100000 0.200000",  # clipped to the frame
    ]  # the third lies outside the frame: dropped


def test_splits_are_stable_and_never_one_sided() -> None:
    many = assign_splits(range(1, 101))
    assert assign_splits(range(100, 0, -1)) == many
    assert 10 <= list(many.values()).count("val") <= 30
    for pair in ([1, 2], [7, 8], [3, 4]):
        assert sorted(assign_splits(pair).values()) == ["train", "val"]


@pytest.mark.parametrize(
    ("degenerate", "estimate", "expected"),
    [
        (None, {}, None),
        ("sea", {}, "la visée tombe en mer"),
        (
            "bearing_disagrees",
            {"outlier_cameras": ["valbonne/sud"]},
            "un relèvement ne concorde pas avec les autres (autre feu ?) : valbonne/sud",
        ),
    ],
)
def test_the_caveat_names_the_camera_left_out(
    degenerate: str | None, estimate: dict[str, object], expected: str | None
) -> None:
    location = Location(method="triangulation", camera_count=3, degenerate=degenerate)
    location.estimate = estimate
    assert location_caveat(location) == expected
    assert location_caveat(None) is None
