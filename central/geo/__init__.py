"""Geolocation of smoke from lookout cameras: camera model, DEM ray casts, triangulation, DFCI.

Everything here is pure functions over named CRSs and units; see ``central.geo.locate`` for the
service entry point and ``docs/geodata.md`` for the data.
"""

from central.geo.attribution import Attribution
from central.geo.bearing import BearingPriors, CameraBearing
from central.geo.geodata import GeoData, layer_geojson, load_geodata
from central.geo.locate import LocationEstimate, Locator, Method, Sighting

__all__ = [
    "Attribution",
    "BearingPriors",
    "CameraBearing",
    "GeoData",
    "LocationEstimate",
    "Locator",
    "Method",
    "Sighting",
    "layer_geojson",
    "load_geodata",
]
