"""DFCI grid codes (carroyage DFCI), computed by rule in NTF Lambert II étendu (EPSG:27572).

Rule (research note §6.1, checked there against all 2 151 derived and 34 official squares of the
06 and 16 118 independent labels): with X' = X and Y' = Y - 1 500 000 m,
100 km square = two letters of ``ABCDEFGHKLMN`` (X', Y'), 20 km square = two even digits,
2 km square = a letter of ``ABCDEFGHKL`` (column, west -> east) and a digit (row, south -> north);
sub-square .5 is the central 1 km square, .1-.4 the NW/NE/SE/SW L-shaped quarters around it.
Intervals are half-open: a point on a line belongs to the square to its north / east.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import numpy as np
import shapely

from central.geo.crs import wgs84_to_lambert2e

LETTERS_100KM = "ABCDEFGHKLMN"
LETTERS_2KM = "ABCDEFGHKL"
Y_ORIGIN_M = 1_500_000.0
SQUARE_M = 2_000.0
CODE_PATTERN = re.compile(r"^[A-HK-N]{2}[02468]{2}[A-HK-L][0-9](\.[1-5])?$")
# Valid domain of the grid (EPSG:27572 metres), metropolitan France and its margins.
X_RANGE_M = (0.0, 1_200_000.0)
Y_RANGE_M = (1_600_000.0, 2_700_000.0)


def code_from_lambert2e(x_m: float, y_m: float, subsquare: bool = False) -> str | None:
    """DFCI code of a point in EPSG:27572 metres; None outside the grid's domain."""
    if not (X_RANGE_M[0] <= x_m < X_RANGE_M[1] and Y_RANGE_M[0] <= y_m < Y_RANGE_M[1]):
        return None
    x, y = x_m, y_m - Y_ORIGIN_M
    c1 = LETTERS_100KM[math.floor(x / 100_000)]
    c2 = LETTERS_100KM[math.floor(y / 100_000)]
    d1 = 2 * math.floor((x % 100_000) / 20_000)
    d2 = 2 * math.floor((y % 100_000) / 20_000)
    c3 = LETTERS_2KM[math.floor((x % 20_000) / SQUARE_M)]
    d3 = math.floor((y % 20_000) / SQUARE_M)
    code = f"{c1}{c2}{d1}{d2}{c3}{d3}"
    if not subsquare:
        return code
    return f"{code}.{_subsquare(x % SQUARE_M, y % SQUARE_M)}"


def _subsquare(x_m: float, y_m: float) -> int:
    if 500 <= x_m < 1_500 and 500 <= y_m < 1_500:
        return 5
    north, east = y_m >= 1_000, x_m >= 1_000
    if north:
        return 2 if east else 1
    return 3 if east else 4


def code_from_wgs84(
    longitude_deg: float, latitude_deg: float, subsquare: bool = False
) -> str | None:
    x, y = wgs84_to_lambert2e().transform(longitude_deg, latitude_deg)
    return code_from_lambert2e(x, y, subsquare)


def square_south_west_m(code: str) -> tuple[float, float]:
    """South-west corner (EPSG:27572 metres) of a 2 km or 20 km square (sub-square ignored)."""
    if not re.match(r"^[A-HK-N]{2}[02468]{2}([A-HK-L][0-9])?(\.[1-5])?$", code):
        raise ValueError(f"{code!r} is not a DFCI code")
    x = float(LETTERS_100KM.index(code[0]) * 100_000 + int(code[2]) // 2 * 20_000)
    y = Y_ORIGIN_M + LETTERS_100KM.index(code[1]) * 100_000 + int(code[3]) // 2 * 20_000
    if len(code) >= 6 and code[4] != ".":
        x += LETTERS_2KM.index(code[4]) * SQUARE_M
        y += int(code[5]) * SQUARE_M
    return x, y


def square_centre_m(code: str) -> tuple[float, float]:
    """Centre (EPSG:27572 metres) of a 2 km square, e.g. LD86K4 -> (997 000, 1 869 000)."""
    x, y = square_south_west_m(code[:6])
    return x + SQUARE_M / 2, y + SQUARE_M / 2


def square_ring_wgs84(code: str, side_m: float = SQUARE_M) -> list[tuple[float, float]]:
    """Counter-clockwise (lon, lat) ring of a square whose south-west corner is ``code``'s."""
    x, y = square_south_west_m(code)
    xs = np.array([x, x + side_m, x + side_m, x, x])
    ys = np.array([y, y, y + side_m, y + side_m, y])
    lon, lat = wgs84_to_lambert2e().transform(xs, ys, direction="INVERSE")
    return [(round(float(a), 6), round(float(b), 6)) for a, b in zip(lon, lat, strict=True)]


def distance_to_square_edge_m(longitude_deg: float, latitude_deg: float) -> float:
    """How far a point is from the nearest 2 km line (metres, EPSG:27572)."""
    x, y = wgs84_to_lambert2e().transform(longitude_deg, latitude_deg)
    dx, dy = x % SQUARE_M, y % SQUARE_M
    return float(min(dx, SQUARE_M - dx, dy, SQUARE_M - dy))


def squares_touched(
    longitude_deg: float,
    latitude_deg: float,
    semi_major_m: float,
    semi_minor_m: float,
    orientation_deg: float,
) -> tuple[str, ...]:
    """Every 2 km square an ellipse touches, the square of its centre first, then by distance.

    The ellipse (semi-axes in metres, major axis clockwise from true north) is drawn in a
    local east/north frame and mapped to EPSG:27572 through the point's meridian convergence
    (0.5 deg in the 06), so its shape survives the projection to well under a metre.
    """
    centre_code = code_from_wgs84(longitude_deg, latitude_deg)
    if centre_code is None:
        return ()
    transform = wgs84_to_lambert2e()
    x0, y0 = transform.transform(longitude_deg, latitude_deg)
    x_north, y_north = transform.transform(longitude_deg, latitude_deg + 0.01)
    grid_rotation = math.atan2(x_north - x0, y_north - y0)  # true north seen in the grid
    angles = np.linspace(0, 2 * math.pi, 72, endpoint=False)
    along, across = semi_major_m * np.cos(angles), semi_minor_m * np.sin(angles)
    heading = math.radians(orientation_deg) + grid_rotation
    xs = x0 + along * math.sin(heading) + across * math.cos(heading)
    ys = y0 + along * math.cos(heading) - across * math.sin(heading)
    ellipse = shapely.Polygon(np.column_stack([xs, ys]))
    codes = {centre_code}
    for x, y in _grid_nodes(*ellipse.bounds):
        cell = shapely.box(x, y, x + SQUARE_M, y + SQUARE_M)
        code = code_from_lambert2e(x + 1, y + 1)
        if code is not None and ellipse.intersects(cell):
            codes.add(code)

    def distance(code: str) -> float:
        cx, cy = square_centre_m(code)
        return math.hypot(cx - x0, cy - y0) if code != centre_code else -1.0

    return tuple(sorted(codes, key=distance))


def _grid_nodes(
    west: float, south: float, east: float, north: float
) -> Iterator[tuple[float, float]]:
    x_start = math.floor(west / SQUARE_M) * SQUARE_M
    y_start = math.floor(south / SQUARE_M) * SQUARE_M
    for x in np.arange(x_start, east, SQUARE_M):
        for y in np.arange(y_start, north, SQUARE_M):
            yield float(x), float(y)
