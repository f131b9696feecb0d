"""Where a point is in the firefighters' terms: DFCI square, commune, massif, forest, stations."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Attribution:
    """Administrative and operational names of a located point.

    ``dfci_code`` is the 2 km square (``LD88G2``), ``dfci_subsquare`` the same with its 1 km
    sub-square (``LD88G2.1``); ``dfci_touched`` lists every 2 km square the 95 % uncertainty
    ellipse touches (the most likely first). ``nearest_stations`` are (name, geodesic distance
    in metres), nearest first.
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
