"""Coordinate reference systems used by the geolocation code, built once and cached.

* WGS84 geographic (EPSG:4326), always in (longitude, latitude) order (``always_xy``).
* NTF Lambert II étendu (EPSG:27572), only for DFCI codes. The WGS84 -> NTF step is pinned to
  PROJ's 3-parameter shift "NTF to WGS 84 (1)" (EPSG:1193, about 1-2 m) so that a point within
  2 m of a DFCI line gets the same code on every machine, with or without the IGN grid installed.
* Lambert-93 (EPSG:2154), for metric areas and distances to borders only, never for azimuths
  (grid convergence is ~3 deg in the 06).
* Geodesics on the WGS84 ellipsoid (``GEOD``) for every azimuth and distance.
"""

from __future__ import annotations

from functools import cache

from pyproj import Geod, Transformer

GEOD = Geod(ellps="WGS84")

WGS84_TO_LAMBERT2E_PIPELINE = (
    "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=push +v_3"
    " +step +proj=cart +ellps=WGS84 +step +proj=helmert +x=168 +y=60 +z=-320"
    " +step +inv +proj=cart +ellps=clrk80ign +step +proj=pop +v_3"
    " +step +proj=lcc +lat_1=46.8 +lat_0=46.8 +lon_0=0 +k_0=0.99987742 +x_0=600000"
    " +y_0=2200000 +ellps=clrk80ign +pm=paris"
)


@cache
def wgs84_to_lambert2e() -> Transformer:
    """(lon, lat) degrees -> (X, Y) metres in NTF Lambert II étendu, pinned pipeline."""
    return Transformer.from_pipeline(WGS84_TO_LAMBERT2E_PIPELINE)


@cache
def wgs84_to_lambert93() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)


@cache
def transformer(source: str, target: str) -> Transformer:
    """Any other pair of CRSs, (x, y) order; cached because building one costs milliseconds."""
    return Transformer.from_crs(source, target, always_xy=True)
