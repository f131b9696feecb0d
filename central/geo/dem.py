"""A digital elevation model on a regular grid, sampled bilinearly; no data is NaN, never zero.

Heights are metres in the DEM's vertical datum (SRTM: EGM96 geoid, i.e. "above sea level", the
same as NGF-IGN69 altitudes to within the DEM error). The grid is in ``crs``: EPSG:4326 grids
(SRTM) have x = longitude and y = latitude in degrees; projected grids (IGN RGE ALTI in
Lambert-93) have metres. Row 0 is the northern edge; ``x0``/``y0`` locate the centre of the
sample in row 0, column 0 (SRTM convention: samples sit on the grid nodes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from central.geo.crs import transformer

WGS84 = "EPSG:4326"
NODATA = -32768
FloatArray = npt.NDArray[np.float64]


class DemError(ValueError):
    """A DEM file that cannot be read or has an inconsistent georeference."""


@dataclass(frozen=True, slots=True, eq=False)
class Dem:
    heights_m: npt.NDArray[np.int16]
    crs: str
    x0: float
    y0: float
    dx: float
    dy: float  # positive: y decreases by dy from one row to the next
    nodata: int = NODATA

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the sample centres, in the grid CRS."""
        rows, cols = self.heights_m.shape
        return (self.x0, self.y0 - (rows - 1) * self.dy, self.x0 + (cols - 1) * self.dx, self.y0)

    def elevation_m(self, longitude_deg: npt.ArrayLike, latitude_deg: npt.ArrayLike) -> FloatArray:
        """Bilinear height at WGS84 points; NaN outside the grid or next to a void sample."""
        lon = np.asarray(longitude_deg, dtype=np.float64)
        lat = np.asarray(latitude_deg, dtype=np.float64)
        if self.crs == WGS84:
            x, y = lon, lat
        else:
            x, y = transformer(WGS84, self.crs).transform(lon, lat)
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        return self.sample_grid(x, y)

    def sample_grid(self, x: FloatArray, y: FloatArray) -> FloatArray:
        rows, cols = self.heights_m.shape
        col = (x - self.x0) / self.dx
        row = (self.y0 - y) / self.dy
        inside = (col >= 0) & (col <= cols - 1) & (row >= 0) & (row <= rows - 1)
        col = np.where(inside, col, 0.0)
        row = np.where(inside, row, 0.0)
        c0 = np.minimum(np.floor(col).astype(np.int64), cols - 2)
        r0 = np.minimum(np.floor(row).astype(np.int64), rows - 2)
        fc = col - c0
        fr = row - r0
        corners = [self.heights_m[r0 + i, c0 + j] for i in (0, 1) for j in (0, 1)]
        void = np.zeros(np.shape(col), dtype=bool)
        for corner in corners:
            void |= corner == self.nodata
        h00, h01, h10, h11 = (corner.astype(np.float64) for corner in corners)
        top = h00 * (1 - fc) + h01 * fc
        bottom = h10 * (1 - fc) + h11 * fc
        height = top * (1 - fr) + bottom * fr
        return np.where(inside & ~void, height, np.nan)

    def save_npz(self, path: Path) -> None:
        meta = {"crs": self.crs, "x0": self.x0, "y0": self.y0, "dx": self.dx, "dy": self.dy}
        meta["nodata"] = self.nodata
        np.savez_compressed(path, heights_m=self.heights_m, meta=np.array(json.dumps(meta)))


def load_dem_npz(path: Path) -> Dem:
    """Read a DEM written by ``Dem.save_npz`` (int16 heights + JSON georeference)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            heights = archive["heights_m"]
            meta = json.loads(str(archive["meta"]))
    except (OSError, KeyError, ValueError) as error:
        raise DemError(f"{path}: not a DEM archive: {error}") from None
    if heights.dtype != np.int16 or heights.ndim != 2 or min(heights.shape) < 2:
        raise DemError(f"{path}: heights_m must be a 2-D int16 grid, got {heights.dtype}")
    try:
        return Dem(
            heights_m=heights,
            crs=str(meta["crs"]),
            x0=float(meta["x0"]),
            y0=float(meta["y0"]),
            dx=float(meta["dx"]),
            dy=float(meta["dy"]),
            nodata=int(meta.get("nodata", NODATA)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise DemError(f"{path}: bad georeference {meta!r}: {error}") from None
