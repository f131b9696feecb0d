"""Commune, massif, forest and stations of known points (research note §9.6)."""

from __future__ import annotations

import pytest

from central.geo import GeoData, layer_geojson
from central.geo.attribution import attribute, nearest_stations


@pytest.mark.parametrize(
    ("lat", "lon", "commune", "insee", "massif", "in_department"),
    [
        (43.7866472, 7.419608279, "Peille", "06091", "Paillon", True),
        (43.71559208, 7.026486331, "Tourrettes-sur-Loup", "06148", "Loup", True),
        (43.6233636, 7.02793957, "Valbonne", "06152", "Brague - Valbonne (littoral ouest)", True),
        (43.6975, 7.2700, "Nice", "06088", "Paillon", True),
        (43.6584, 6.9237, "Grasse", "06069", "Siagne - Pays de Grasse", True),
        (43.8600, 7.2100, "Levens", "06075", "Var valley (lower)", True),
        (43.75561, 7.26037, "Falicon", "06060", "Paillon", True),
        (43.5200, 6.9300, "Mandelieu-la-Napoule", "06079", "Esterel", True),
        (43.7384, 7.4246, None, None, None, False),  # Monaco
        (43.7900, 7.6080, None, None, None, False),  # Ventimiglia
        (43.5900, 6.8750, None, None, None, False),  # Tanneron, Var
    ],
)
def test_commune_and_massif(
    geodata: GeoData,
    lat: float,
    lon: float,
    commune: str | None,
    insee: str | None,
    massif: str | None,
    in_department: bool,
) -> None:
    found = attribute(geodata, lon, lat, 100, 100, 0)
    assert found.commune == commune
    assert found.commune_insee == insee
    assert found.massif == massif
    assert found.in_department is in_department


@pytest.mark.parametrize(
    ("lat", "lon", "in_forest"),
    [
        (43.8600, 7.2100, True),  # T1, Levens
        (43.75561, 7.26037, True),  # T0, Falicon
        (43.5200, 6.9300, True),  # Esterel
        (43.6975, 7.2700, False),  # Nice centre, 2.3 km from forest
    ],
)
def test_forest_type(geodata: GeoData, lat: float, lon: float, in_forest: bool) -> None:
    assert geodata.forest is not None
    essence = geodata.forest.essence_at(lon, lat)
    assert (essence is not None) is in_forest
    if essence is not None:
        assert essence in geodata.forest.names


def test_dfci_fields(geodata: GeoData) -> None:
    found = attribute(geodata, 7.21, 43.86, 213, 152, 92.6)
    assert found.dfci_code == "LD88G2"
    assert found.dfci_subsquare == "LD88G2.1"
    assert found.dfci_touched == ("LD88G2", "LD88F2")


def test_nearest_stations_are_sorted_and_near(geodata: GeoData) -> None:
    stations = nearest_stations(geodata, 6.9237, 43.6584)  # Grasse
    assert len(stations) == 3
    distances = [distance for _, distance in stations]
    assert distances == sorted(distances)
    assert any("GRASSE" in name for name, _ in stations)
    assert distances[0] < 3_000


@pytest.mark.parametrize(
    "name",
    ["massifs", "communes", "department", "forest", "camera_sites", "fire_stations", "peaks"],
)
def test_layers_for_the_map(name: str) -> None:
    layer = layer_geojson(name)
    assert layer["type"] == "FeatureCollection"
    assert layer["features"]


def test_unknown_layer_is_named() -> None:
    with pytest.raises(KeyError, match="dfci_20km"):
        layer_geojson("roads")
