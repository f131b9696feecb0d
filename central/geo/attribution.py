"""Where a point is in the firefighters' terms: DFCI square, commune, massif, forest, stations.

The massif is the zone of ``massifs.geojson``: in the committed data these are 16 derived
commune-union zones, not the official PDPFCI massifs (install those per ``docs/geodata.md``).
``forest_type`` is the BD Forêt V2 essence of the 0.001 deg cell, None outside the extract's
forest, which lacks maquis and garrigue: "no forest type" does not mean "not fire-prone".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from central.geo import dfci
from central.geo.crs import GEOD
from central.geo.geodata import GeoData

NEAREST_STATIONS = 3
# The ellipse whose DFCI squares are listed: 95 % of a 2-D Gaussian (2.448 sigma).
DFCI_TOUCH_SIGMAS = 2.448


@dataclass(frozen=True, slots=True)
class Attribution:
    """Administrative and operational names of a located point.

    ``dfci_code`` is the 2 km square (``LD88G2``), ``dfci_subsquare`` the same with its 1 km
    sub-square (``LD88G2.1``); ``dfci_touched`` lists every 2 km square the 95 % uncertainty
    ellipse touches (the point's own square first, then by distance). ``nearest_stations`` are
    (name, geodesic distance in metres), nearest first.
    """

    dfci_code: str | None
    dfci_subsquare: str | None
    dfci_touched: tuple[str, ...]
    commune: str | None
    commune_insee: str | None
    massif: str | None
    forest_type: str | None
    nearest_stations: tuple[tuple[str, float], ...]
    in_department: bool


def attribute(
    geodata: GeoData,
    longitude_deg: float,
    latitude_deg: float,
    semi_major_m: float,
    semi_minor_m: float,
    orientation_deg: float,
) -> Attribution:
    """Names of a point; the 1-sigma ellipse (metres, major axis from true north) sets which
    other DFCI squares are listed."""
    commune = geodata.communes.at(longitude_deg, latitude_deg)
    massif = geodata.massifs.at(longitude_deg, latitude_deg)
    forest = geodata.forest.essence_at(longitude_deg, latitude_deg) if geodata.forest else None
    return Attribution(
        dfci_code=dfci.code_from_wgs84(longitude_deg, latitude_deg),
        dfci_subsquare=dfci.code_from_wgs84(longitude_deg, latitude_deg, subsquare=True),
        dfci_touched=dfci.squares_touched(
            longitude_deg,
            latitude_deg,
            DFCI_TOUCH_SIGMAS * semi_major_m,
            DFCI_TOUCH_SIGMAS * semi_minor_m,
            orientation_deg,
        ),
        commune=commune.name if commune else None,
        commune_insee=commune.code if commune else None,
        massif=massif.name if massif else None,
        forest_type=forest,
        nearest_stations=nearest_stations(geodata, longitude_deg, latitude_deg),
        in_department=geodata.department.at(longitude_deg, latitude_deg) is not None,
    )


def nearest_stations(
    geodata: GeoData, longitude_deg: float, latitude_deg: float, count: int = NEAREST_STATIONS
) -> tuple[tuple[str, float], ...]:
    if not geodata.stations:
        return ()
    n = len(geodata.stations)
    _, _, distances = GEOD.inv(
        np.full(n, longitude_deg),
        np.full(n, latitude_deg),
        np.array([station.longitude_deg for station in geodata.stations]),
        np.array([station.latitude_deg for station in geodata.stations]),
    )
    order = np.argsort(distances)[:count]
    return tuple((geodata.stations[int(i)].name, round(float(distances[int(i)]), 1)) for i in order)
