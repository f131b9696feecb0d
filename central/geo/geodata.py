"""The geodata the locator needs, loaded once: DEM, communes, massifs, forest, stations, sites."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA_DIRECTORY = Path(__file__).with_name("data")


@dataclass(frozen=True, slots=True)
class GeoData:
    directory: Path


def load_geodata(directory: Path | None = None) -> GeoData:
    """Load the layers from ``directory`` (default: the committed ``central/geo/data``)."""
    return GeoData(directory or DATA_DIRECTORY)


def layer_geojson(name: str) -> dict[str, object]:
    """A small GeoJSON FeatureCollection for the console map (massifs, communes, forest, ...)."""
    raise NotImplementedError(name)
