"""Build a ``Dem`` from the files operators actually have: SRTM ``.hgt`` tiles or ESRI ASCII grids.

* SRTM ``.hgt`` (1" = 3601x3601 or 3" = 1201x1201 samples, big-endian int16, -32768 void, row 0
  at latitude+1, samples on whole arc-seconds, EPSG:4326). The tile's south-west corner is in
  its name (``N43E007.hgt``). Adjacent tiles share an edge row/column; the eastern/northern
  tile wins.
* ESRI ASCII grids (``.asc``: IGN RGE ALTI / BD ALTI, Lambert-93 by default), all tiles on the
  same cell size and aligned grid; ``xllcorner`` is a cell corner, so the sample centres are half a
  cell inside.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from central.geo.dem import NODATA, WGS84, Dem, DemError

_HGT_NAME = re.compile(r"^([NS])(\d{2})([EW])(\d{3})\.hgt$", re.IGNORECASE)


def _hgt_corner(path: Path) -> tuple[int, int]:
    match = _HGT_NAME.match(path.name)
    if match is None:
        raise DemError(f"{path}: name must look like N43E007.hgt")
    lat = int(match.group(2)) * (1 if match.group(1).upper() == "N" else -1)
    lon = int(match.group(4)) * (1 if match.group(3).upper() == "E" else -1)
    return lat, lon


def dem_from_hgt(
    paths: Sequence[Path], bounds_deg: tuple[float, float, float, float] | None = None
) -> Dem:
    """Mosaic SRTM tiles (missing tiles inside the mosaic stay void) and crop to ``bounds_deg``
    = (west, south, east, north) in degrees, snapped outwards to whole samples."""
    if not paths:
        raise DemError("no .hgt tiles given")
    tiles: dict[tuple[int, int], npt.NDArray[np.int16]] = {}
    size = 0
    for path in paths:
        raw = path.read_bytes()
        side = math.isqrt(len(raw) // 2)
        if side * side * 2 != len(raw) or side not in (1201, 3601):
            raise DemError(f'{path}: {len(raw)} bytes is neither a 1" nor a 3" SRTM tile')
        if size and side != size:
            raise DemError(f'{path}: mixes 1" and 3" tiles')
        size = side
        tiles[_hgt_corner(path)] = np.frombuffer(raw, dtype=">i2").reshape(side, side)
    per_degree = size - 1
    lats = [lat for lat, _ in tiles]
    lons = [lon for _, lon in tiles]
    lat_min, lat_max, lon_min, lon_max = min(lats), max(lats), min(lons), max(lons)
    rows = (lat_max - lat_min + 1) * per_degree + 1
    cols = (lon_max - lon_min + 1) * per_degree + 1
    mosaic = np.full((rows, cols), NODATA, dtype=np.int16)
    # West-to-east and south-to-north so that the later (eastern/northern) tile owns the seam.
    for (lat, lon), tile in sorted(tiles.items(), key=lambda item: (item[0][1], item[0][0])):
        row = (lat_max - lat) * per_degree
        col = (lon - lon_min) * per_degree
        mosaic[row : row + size, col : col + size] = tile
    step = 1.0 / per_degree
    dem = Dem(mosaic, WGS84, x0=float(lon_min), y0=float(lat_max + 1), dx=step, dy=step)
    return dem if bounds_deg is None else crop(dem, bounds_deg)


def crop(dem: Dem, bounds: tuple[float, float, float, float]) -> Dem:
    """The samples of ``dem`` covering (west, south, east, north), in the grid CRS."""
    west, south, east, north = bounds
    rows, cols = dem.heights_m.shape
    c0 = max(0, int(np.floor((west - dem.x0) / dem.dx + 1e-9)))
    c1 = min(cols - 1, int(np.ceil((east - dem.x0) / dem.dx - 1e-9)))
    r0 = max(0, int(np.floor((dem.y0 - north) / dem.dy + 1e-9)))
    r1 = min(rows - 1, int(np.ceil((dem.y0 - south) / dem.dy - 1e-9)))
    if c1 <= c0 or r1 <= r0:
        raise DemError(f"bounds {bounds} do not overlap the DEM {dem.bounds}")
    return Dem(
        heights_m=np.ascontiguousarray(dem.heights_m[r0 : r1 + 1, c0 : c1 + 1]),
        crs=dem.crs,
        x0=dem.x0 + c0 * dem.dx,
        y0=dem.y0 - r0 * dem.dy,
        dx=dem.dx,
        dy=dem.dy,
        nodata=dem.nodata,
    )


def _read_asc(path: Path) -> tuple[dict[str, float], npt.NDArray[np.float64]]:
    header: dict[str, float] = {}
    with path.open(encoding="ascii") as stream:
        for _ in range(6):
            key, value = stream.readline().split()
            header[key.lower()] = float(value)
        values = np.loadtxt(stream, dtype=np.float64, ndmin=2)
    if values.shape != (int(header["nrows"]), int(header["ncols"])):
        raise DemError(f"{path}: grid is {values.shape}, header says {header}")
    return header, values


def dem_from_esri_ascii(paths: Sequence[Path], crs: str = "EPSG:2154") -> Dem:
    """Mosaic ESRI ASCII grid tiles (same cell size, aligned) into one int16 DEM (metres)."""
    if not paths:
        raise DemError("no .asc tiles given")
    grids = []
    for path in paths:
        try:
            grids.append(_read_asc(path))
        except (OSError, KeyError, ValueError) as error:
            raise DemError(f"{path}: not an ESRI ASCII grid: {error}") from None
    cell = grids[0][0]["cellsize"]
    if any(abs(header["cellsize"] - cell) > 1e-9 for header, _ in grids):
        raise DemError("ASCII grid tiles must share one cell size")
    west = min(h["xllcorner"] for h, _ in grids)
    north = max(h["yllcorner"] + h["nrows"] * cell for h, _ in grids)
    east = max(h["xllcorner"] + h["ncols"] * cell for h, _ in grids)
    south = min(h["yllcorner"] for h, _ in grids)
    mosaic = np.full(
        (round((north - south) / cell), round((east - west) / cell)), NODATA, dtype=np.int16
    )
    for header, values in grids:
        row = round((north - (header["yllcorner"] + header["nrows"] * cell)) / cell)
        col = round((header["xllcorner"] - west) / cell)
        nodata = header.get("nodata_value", -99999.0)
        tile = np.where(values == nodata, NODATA, np.round(values)).astype(np.int16)
        mosaic[row : row + values.shape[0], col : col + values.shape[1]] = tile
    return Dem(mosaic, crs, x0=west + cell / 2, y0=north - cell / 2, dx=cell, dy=cell)
