"""DFCI codes by rule in NTF Lambert II étendu (research note §6.1, table §9.6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from central.geo import dfci, layer_geojson
from central.geo.crs import wgs84_to_lambert2e

# The project's shared geodata snapshot, next to the repository (absent on other machines).
SHARED_DFCI = Path(__file__).resolve().parents[5] / "shared" / "geodata" / "dfci"


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [
        (43.7866472, 7.419608279, "MD06E9.3"),  # cabanelle
        (43.71559208, 7.026486331, "LD66L4.4"),  # courmettes
        (43.6233636, 7.02793957, "LD64L9.4"),  # valbonne
        (43.6975, 7.2700, "LD86K3.2"),  # Nice, place Masséna
        (43.6584, 6.9237, "LD66F0.1"),  # Grasse
        (43.8600, 7.2100, "LD88G2.1"),  # T1, Levens
        (43.6900, 7.2000, "LD86G3.4"),  # T2
        (43.75561, 7.26037, "LD86K6.1"),  # T0, Falicon
        (43.5200, 6.9300, "LD64F3.3"),  # Esterel
        (44.1146, 7.4217, "ME00D7.5"),  # Mont Clapier area
        (43.7384, 7.4246, "MD06F6.4"),  # Monaco (arithmetic, not an official reference)
        (43.7900, 7.6080, "MD26C9.1"),  # Ventimiglia (idem)
        (43.5900, 6.8750, "LD64D6.1"),  # Tanneron, Var
    ],
)
def test_code_of_known_points(lat: float, lon: float, code: str) -> None:
    assert dfci.code_from_wgs84(lon, lat, subsquare=True) == code
    assert dfci.code_from_wgs84(lon, lat) == code[:6]
    assert dfci.CODE_PATTERN.match(code)


@pytest.mark.parametrize(
    ("x", "y", "code"),
    [
        (998_000, 1_866_000, "LD86L3.4"),  # a line belongs to the north/east square
        (997_999.99, 1_865_999.99, "LD86K2.2"),
        (1_000_000, 1_880_000, "MD08A0.4"),  # 100 km corner
        (999_999.5, 1_879_999.5, "LD86L9.2"),
        (997_000, 1_869_000, "LD86K4.5"),  # centre of a square: the central 1 km sub-square
    ],
)
def test_code_of_lambert2e_points(x: float, y: float, code: str) -> None:
    assert dfci.code_from_lambert2e(x, y, subsquare=True) == code


@pytest.mark.parametrize(
    ("x", "y"), [(-1.0, 1_870_000), (1_250_000, 1_870_000), (500_000, 1_000_000)]
)
def test_out_of_domain_is_none(x: float, y: float) -> None:
    assert dfci.code_from_lambert2e(x, y) is None


def test_pinned_transformation_of_cabanelle() -> None:
    x, y = wgs84_to_lambert2e().transform(7.419608279, 43.7866472)
    assert x == pytest.approx(1_009_370.8, abs=0.1)
    assert y == pytest.approx(1_878_234.6, abs=0.1)


def test_inverse_nice_square() -> None:
    assert dfci.square_centre_m("LD86K4") == (997_000.0, 1_869_000.0)
    lon, lat = wgs84_to_lambert2e().transform(997_000.0, 1_869_000.0, direction="INVERSE")
    assert lat == pytest.approx(43.710879, abs=1e-6)
    assert lon == pytest.approx(7.259240, abs=1e-6)


def test_bad_code_is_refused() -> None:
    with pytest.raises(ValueError, match="not a DFCI code"):
        dfci.square_south_west_m("LI86K4")


def test_t1_ellipse_touches_both_columns() -> None:
    """T1 is 6 m east of the F/G line: its 95 % ellipse (521 x 373 m, 92.6 deg) spans both."""
    touched = dfci.squares_touched(7.21, 43.86, 521, 373, 92.6)
    assert touched == ("LD88G2", "LD88F2")


def test_small_ellipse_in_the_middle_touches_one_square() -> None:
    assert dfci.squares_touched(7.259240, 43.710879, 50, 20, 30) == ("LD86K4",)


def test_distance_to_square_edge() -> None:
    assert dfci.distance_to_square_edge_m(7.21, 43.86) == pytest.approx(6, abs=1)


def test_20km_layer_is_the_official_grid() -> None:
    layer = layer_geojson("dfci_20km")
    codes = {feature["properties"]["code"] for feature in layer["features"]}
    assert {"LD86", "LD66", "MD06", "ME00"} <= codes


@pytest.mark.skipif(not SHARED_DFCI.exists(), reason="shared geodata snapshot not present")
@pytest.mark.parametrize(
    ("name", "length"),
    [("dfci_grid_2km_06_derived.geojson", 6), ("dfci_grid_20km_06.geojson", 4)],
)
def test_rule_reproduces_every_shared_square(name: str, length: int) -> None:
    features = json.loads((SHARED_DFCI / name).read_text(encoding="utf-8"))["features"]
    mismatches = []
    for feature in features:
        centre = shapely.geometry.shape(feature["geometry"]).centroid
        code = dfci.code_from_wgs84(centre.x, centre.y)
        if code is None or code[:length] != feature["properties"]["code"]:
            mismatches.append((feature["properties"]["code"], code))
    assert len(features) > 30
    assert mismatches == []
