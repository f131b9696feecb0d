"""DEM sampling, storage and import (SRTM .hgt, ESRI ASCII grid)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from central.geo.dem import Dem, DemError, load_dem_npz
from central.geo.dem_import import crop, dem_from_esri_ascii, dem_from_hgt


def small_dem() -> Dem:
    heights = np.array([[0, 10, 20], [100, 110, 120], [200, -32768, 220]], dtype=np.int16)
    return Dem(heights, "EPSG:4326", x0=7.0, y0=44.0, dx=0.5, dy=0.5)


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (7.0, 44.0, 0.0),  # a sample
        (7.25, 44.0, 5.0),  # halfway along the top row
        (7.25, 43.75, 55.0),  # centre of the top-left cell
        (8.0, 44.0, 20.0),  # the east edge is inside
        (7.25, 43.25, math.nan),  # next to the void sample
        (6.9, 44.0, math.nan),  # west of the grid
        (7.0, 44.1, math.nan),  # north of the grid (like 44 N for the shipped DEM)
    ],
)
def test_bilinear_sampling(lon: float, lat: float, expected: float) -> None:
    got = float(small_dem().elevation_m(lon, lat))
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected)


def test_npz_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "dem.npz"
    small_dem().save_npz(path)
    loaded = load_dem_npz(path)
    assert loaded.bounds == small_dem().bounds
    assert np.array_equal(loaded.heights_m, small_dem().heights_m)


def test_bad_npz_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "dem.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(DemError, match="not a DEM archive"):
        load_dem_npz(path)


def test_hgt_tiles_mosaic_and_crop(tmp_path: Path) -> None:
    west = np.full((1201, 1201), 100, dtype=">i2")
    east = np.full((1201, 1201), 200, dtype=">i2")
    (tmp_path / "N43E006.hgt").write_bytes(west.tobytes())
    (tmp_path / "N43E007.hgt").write_bytes(east.tobytes())
    dem = dem_from_hgt(sorted(tmp_path.glob("*.hgt")), (6.9, 43.5, 7.1, 43.6))
    assert float(dem.elevation_m(6.95, 43.55)) == pytest.approx(100)
    assert float(dem.elevation_m(7.0, 43.55)) == pytest.approx(
        200
    )  # the eastern tile owns the seam
    assert float(dem.elevation_m(7.05, 43.55)) == pytest.approx(200)
    west_edge, south, _, north = dem.bounds
    assert west_edge <= 6.9
    assert south <= 43.5
    assert north >= 43.6


def test_hgt_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "N43E006.hgt"
    path.write_bytes(b"\0" * 1000)
    with pytest.raises(DemError, match="neither"):
        dem_from_hgt([path])


def test_crop_outside_is_refused() -> None:
    with pytest.raises(DemError, match="do not overlap"):
        crop(small_dem(), (9.0, 40.0, 9.5, 40.5))


def test_esri_ascii_tiles_in_lambert93(tmp_path: Path) -> None:
    header = (
        "ncols 2\nnrows 2\nxllcorner {x}\nyllcorner 6300000\ncellsize 25\nNODATA_value -99999\n"
    )
    (tmp_path / "a.asc").write_text(header.format(x=1040000) + "10 20\n30 -99999\n")
    (tmp_path / "b.asc").write_text(header.format(x=1040050) + "40 50\n60 70\n")
    dem = dem_from_esri_ascii(sorted(tmp_path.glob("*.asc")))
    assert dem.heights_m.shape == (2, 4)
    assert dem.heights_m[1, 1] == dem.nodata
    assert float(dem.sample_grid(np.array(1040062.5), np.array(6300037.5))) == pytest.approx(40)
    assert float(dem.sample_grid(np.array(1040075.0), np.array(6300025.0))) == pytest.approx(55)
    assert math.isnan(float(dem.sample_grid(np.array(1040012.5), np.array(6300037.5))))
    lon, lat = 7.262, 43.714  # somewhere in Nice, far outside this 100 m grid
    assert math.isnan(float(dem.elevation_m(lon, lat)))
