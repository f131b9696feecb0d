"""The geodata the locator needs, loaded once: DEM, communes, massifs, forest, stations, sites.

``load_geodata(directory)`` takes each file from ``directory`` when it is there and from the
committed ``central/geo/data`` otherwise, so an operator installs full-resolution terrain or the
official massif polygons by dropping ``dem.npz`` / ``massifs.geojson`` into one folder
(``docs/geodata.md``). Vector layers are GeoJSON in WGS84 (lon, lat).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.strtree import STRtree

from central.geo import dfci
from central.geo.crs import wgs84_to_lambert2e
from central.geo.dem import Dem, load_dem_npz

logger = logging.getLogger(__name__)

DATA_DIRECTORY = Path(__file__).with_name("data")
DEM_FILE = "dem.npz"
COMMUNES_FILE = "communes.geojson"
DEPARTMENT_FILE = "department.geojson"
MASSIFS_FILE = "massifs.geojson"
FOREST_GRID_FILE = "forest_type.npz"
FOREST_LAYER_FILE = "forest.geojson"
STATIONS_FILE = "fire_stations.geojson"
SITES_FILE = "camera_sites.geojson"
PEAKS_FILE = "peaks.geojson"
LAYER_FILES = {
    "massifs": MASSIFS_FILE,
    "communes": COMMUNES_FILE,
    "department": DEPARTMENT_FILE,
    "forest": FOREST_LAYER_FILE,
    "camera_sites": SITES_FILE,
    "fire_stations": STATIONS_FILE,
    "peaks": PEAKS_FILE,
}
GENERATED_LAYERS = ("dfci_20km",)


class GeoDataError(ValueError):
    """A geodata file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Area:
    name: str
    code: str | None
    geometry: Any  # shapely (Multi)Polygon, WGS84


class AreaIndex:
    """Point-in-polygon over named areas; boundary points belong to an area (``covers``)."""

    def __init__(self, areas: list[Area]) -> None:
        self.areas = tuple(areas)
        self._tree = STRtree([area.geometry for area in areas])

    def at(self, longitude_deg: float, latitude_deg: float) -> Area | None:
        hits = self._tree.query(shapely.Point(longitude_deg, latitude_deg), predicate="covered_by")
        return self.areas[int(min(hits))] if len(hits) else None


@dataclass(frozen=True, slots=True, eq=False)
class ForestGrid:
    """BD Forêt essence per 0.001 deg cell (0 = no forest in the extract)."""

    essence: npt.NDArray[np.uint8]
    west_deg: float
    north_deg: float
    cell_deg: float
    names: tuple[str, ...]

    def essence_at(self, longitude_deg: float, latitude_deg: float) -> str | None:
        col = math.floor((longitude_deg - self.west_deg) / self.cell_deg)
        row = math.floor((self.north_deg - latitude_deg) / self.cell_deg)
        rows, cols = self.essence.shape
        if not (0 <= row < rows and 0 <= col < cols):
            return None
        value = int(self.essence[row, col])
        return self.names[value - 1] if value else None


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    longitude_deg: float
    latitude_deg: float
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True, eq=False)
class GeoData:
    dem: Dem | None  # None: no terrain installed, bearing-only
    communes: AreaIndex
    department: AreaIndex
    massifs: AreaIndex
    forest: ForestGrid | None
    stations: tuple[Place, ...]
    camera_sites: tuple[Place, ...]
    peaks: tuple[Place, ...]


def _path(directory: Path | None, name: str) -> Path:
    if directory is not None and (directory / name).exists():
        return directory / name
    return DATA_DIRECTORY / name


def _features(path: Path) -> list[dict[str, Any]]:
    try:
        features: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GeoDataError(f"{path}: not a GeoJSON FeatureCollection: {error}") from None
    return features


def _areas(path: Path, code_key: str | None) -> AreaIndex:
    areas = []
    for feature in _features(path):
        properties = feature["properties"]
        geometry = shapely.geometry.shape(feature["geometry"])
        code = str(properties[code_key]) if code_key else None
        areas.append(Area(str(properties["name"]), code, shapely.make_valid(geometry)))
    return AreaIndex(areas)


def _places(path: Path) -> tuple[Place, ...]:
    places = []
    for feature in _features(path):
        lon, lat = feature["geometry"]["coordinates"][:2]
        properties = feature["properties"]
        places.append(Place(str(properties.get("name") or ""), lon, lat, properties))
    return tuple(places)


def _forest(path: Path) -> ForestGrid | None:
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
        grid = archive["essence"]
    return ForestGrid(grid, meta["west"], meta["north"], meta["cell_deg"], tuple(meta["essences"]))


def load_geodata(directory: Path | None = None) -> GeoData:
    """Load the layers from ``directory`` (default: the committed ``central/geo/data``)."""
    dem_path = _path(directory, DEM_FILE)
    dem = load_dem_npz(dem_path) if dem_path.exists() else None
    if dem is None:
        logger.warning("no DEM at %s: one-camera locations will be bearing-only", dem_path)
    else:
        logger.info("DEM %s: %s samples, bounds %s", dem_path, dem.heights_m.shape, dem.bounds)
    massifs_path = _path(directory, MASSIFS_FILE)
    logger.info("massif polygons from %s", massifs_path)
    return GeoData(
        dem=dem,
        communes=_areas(_path(directory, COMMUNES_FILE), "insee"),
        department=_areas(_path(directory, DEPARTMENT_FILE), "code"),
        massifs=_areas(massifs_path, None),
        forest=_forest(_path(directory, FOREST_GRID_FILE)),
        stations=_places(_path(directory, STATIONS_FILE)),
        camera_sites=_places(_path(directory, SITES_FILE)),
        peaks=_places(_path(directory, PEAKS_FILE)),
    )


@cache
def layer_geojson(name: str) -> dict[str, Any]:
    """A small GeoJSON FeatureCollection for the console map: one of ``LAYER_FILES`` or
    ``dfci_20km`` (the DFCI 20 km squares over the 06, computed by rule). Treat as read-only."""
    if name == "dfci_20km":
        return _dfci_20km_layer()
    if name not in LAYER_FILES:
        known = ", ".join(sorted([*LAYER_FILES, *GENERATED_LAYERS]))
        raise KeyError(f"unknown layer {name!r}; known: {known}")
    return {"type": "FeatureCollection", "features": _features(DATA_DIRECTORY / LAYER_FILES[name])}


def _dfci_20km_layer() -> dict[str, Any]:
    department = _features(DATA_DIRECTORY / DEPARTMENT_FILE)[0]["geometry"]
    west, south, east, north = shapely.geometry.shape(department).bounds
    xs, ys = wgs84_to_lambert2e().transform([west, east, west, east], [south, south, north, north])
    side = 20_000.0
    features = []
    for x in np.arange(math.floor(min(xs) / side) * side, max(xs), side):
        for y in np.arange(math.floor(min(ys) / side) * side, max(ys), side):
            code = dfci.code_from_lambert2e(float(x) + 1, float(y) + 1)
            if code is None:
                continue
            ring = dfci.square_ring_wgs84(code[:4], side)
            features.append(
                {
                    "type": "Feature",
                    "properties": {"code": code[:4]},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    return {"type": "FeatureCollection", "features": features}
