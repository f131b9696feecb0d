"""Rebuild the committed geodata of ``central/geo/data`` from the project's shared source files,
or turn an operator's full-resolution terrain into a ``dem.npz``.

    python -m central.geo.build_data layers --shared ../shared/geodata --out central/geo/data
    python -m central.geo.build_data dem --hgt N43E007.hgt ... --out /srv/geodata/dem.npz
    python -m central.geo.build_data dem --asc RGEALTI_*.asc --crs EPSG:2154 --out ...

Provenance and licences of every layer: ``central/geo/data/ATTRIBUTION.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from central.geo import geodata
from central.geo.dem_import import dem_from_esri_ascii, dem_from_hgt

logger = logging.getLogger(__name__)

# The committed DEM: the two SRTM 3" tiles cut to the 06 and its view into the Var and Italy.
DEM_BOUNDS_DEG = (6.45, 43.30, 7.90, 44.00)
# Forest-type grid: 0.001 deg cells, the precision of the BD Forêt extract (3 decimals).
FOREST_BOUNDS_DEG = (6.45, 43.30, 7.90, 44.40)
FOREST_CELL_DEG = 0.001
DISPLAY_TOLERANCE_DEG = 0.001  # ~100 m: the map layers are for drawing, not for look-ups
MIN_DISPLAY_AREA_DEG2 = 2e-5  # ~20 ha


def _read(path: Path) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["features"]
    return features


def _write(path: Path, features: Sequence[dict[str, Any]]) -> None:
    collection = {"type": "FeatureCollection", "features": list(features)}
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n")
    logger.info("wrote %s (%d features, %d bytes)", path, len(features), path.stat().st_size)


def _feature(geometry: Any, properties: dict[str, Any], precision_deg: float) -> dict[str, Any]:
    rounded = shapely.set_precision(geometry, precision_deg)
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": json.loads(shapely.to_geojson(rounded)),
    }


def _forest_grid(features: list[dict[str, Any]], out: Path) -> list[Any]:
    """Rasterise BD Forêt essences onto cell centres; returns the polygons for display."""
    west, south, east, north = FOREST_BOUNDS_DEG
    cols = round((east - west) / FOREST_CELL_DEG)
    rows = round((north - south) / FOREST_CELL_DEG)
    grid = np.zeros((rows, cols), dtype=np.uint8)
    names = sorted({str(f["properties"]["essence"]) for f in features})
    polygons = []
    for feature in features:
        polygon = shapely.geometry.shape(feature["geometry"])
        polygons.append(polygon)
        x_min, y_min, x_max, y_max = polygon.bounds
        c0, c1 = int((x_min - west) / FOREST_CELL_DEG), int((x_max - west) / FOREST_CELL_DEG) + 1
        r0, r1 = int((north - y_max) / FOREST_CELL_DEG), int((north - y_min) / FOREST_CELL_DEG) + 1
        c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, cols), min(r1, rows)
        if c1 <= c0 or r1 <= r0:
            continue
        xs = west + (np.arange(c0, c1) + 0.5) * FOREST_CELL_DEG
        ys = north - (np.arange(r0, r1) + 0.5) * FOREST_CELL_DEG
        grid_x, grid_y = np.meshgrid(xs, ys)
        inside = shapely.contains_xy(polygon, grid_x, grid_y)
        window = grid[r0:r1, c0:c1]
        window[inside & (window == 0)] = names.index(str(feature["properties"]["essence"])) + 1
    meta = {"west": west, "north": north, "cell_deg": FOREST_CELL_DEG, "essences": names}
    np.savez_compressed(out, essence=grid, meta=np.array(json.dumps(meta, ensure_ascii=False)))
    logger.info("wrote %s (%dx%d cells, %d bytes)", out, rows, cols, out.stat().st_size)
    return polygons


def _display_forest(polygons: list[Any]) -> Any:
    """Close gaps of ~100 m, simplify to ~100 m and drop slivers: a drawing, not a look-up."""
    closed = shapely.union_all(polygons).buffer(DISPLAY_TOLERANCE_DEG, quad_segs=2)
    smooth = closed.buffer(-DISPLAY_TOLERANCE_DEG, quad_segs=2).simplify(DISPLAY_TOLERANCE_DEG)
    parts = []
    for part in getattr(smooth, "geoms", [smooth]):
        if part.area < MIN_DISPLAY_AREA_DEG2:
            continue
        holes = [
            ring for ring in part.interiors if shapely.Polygon(ring).area >= MIN_DISPLAY_AREA_DEG2
        ]
        parts.append(shapely.Polygon(part.exterior, holes))
    return shapely.MultiPolygon(parts)


def build_layers(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    dem = dem_from_hgt(
        [shared / "dem" / "N43E006.hgt", shared / "dem" / "N43E007.hgt"], DEM_BOUNDS_DEG
    )
    dem.save_npz(out / geodata.DEM_FILE)
    communes = _read(shared / "admin" / "communes_06.geojson")
    _write(
        out / geodata.COMMUNES_FILE,
        [
            _feature(
                shapely.geometry.shape(f["geometry"]),
                {"insee": f["properties"]["code"], "name": f["properties"]["nom"]},
                1e-5,
            )
            for f in communes
        ],
    )
    department = _read(shared / "admin" / "departement_06.geojson")
    _write(
        out / geodata.DEPARTMENT_FILE,
        [
            _feature(
                shapely.geometry.shape(f["geometry"]),
                {"code": "06", "name": f["properties"]["nom"]},
                1e-5,
            )
            for f in department
        ],
    )
    massifs = _read(shared / "massifs" / "massif_zones_06_derived.geojson")
    _write(
        out / geodata.MASSIFS_FILE,
        [
            _feature(
                shapely.geometry.shape(f["geometry"]),
                {
                    "name": f["properties"]["name"],
                    "zone_id": f["properties"]["zone_id"],
                    "official": False,
                },
                1e-5,
            )
            for f in massifs
        ],
    )
    polygons = _forest_grid(
        _read(shared / "forest" / "bdforet_v2_06_partial.geojson"), out / geodata.FOREST_GRID_FILE
    )
    _write(
        out / geodata.FOREST_LAYER_FILE,
        [
            _feature(
                _display_forest(polygons),
                {"name": "BD Forêt V2 (partial), smoothed for display"},
                1e-4,
            )
        ],
    )
    stations = _read(shared / "poi" / "fire_stations_sdis06_2016_geocoded.geojson")
    keep = ("name", "groupement", "position_quality")
    _write(
        out / geodata.STATIONS_FILE,
        [
            {
                "type": "Feature",
                "properties": {k: f["properties"][k] for k in keep},
                "geometry": f["geometry"],
            }
            for f in stations
        ],
    )
    sites = _read(shared / "poi" / "pyronear_camera_sites.geojson")
    _write(
        out / geodata.SITES_FILE,
        [
            {
                "type": "Feature",
                "properties": {
                    k: f["properties"][k] for k in ("name", "elevation_m", "fov_h_deg", "fov_v_deg")
                },
                "geometry": f["geometry"],
            }
            for f in sites
            if f["properties"]["department"] == "06"
        ],
    )
    peaks = _read(shared / "osm" / "peaks_mercantour_osm.geojson")
    _write(
        out / geodata.PEAKS_FILE,
        [
            {
                "type": "Feature",
                "properties": {
                    "name": f["properties"].get("name"),
                    "ele": f["properties"].get("ele"),
                    "osm_id": f["properties"].get("id_"),
                },
                "geometry": f["geometry"],
            }
            for f in peaks
        ],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m central.geo.build_data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    layers = commands.add_parser("layers", help="rebuild central/geo/data from shared geodata")
    layers.add_argument("--shared", type=Path, required=True)
    layers.add_argument("--out", type=Path, default=geodata.DATA_DIRECTORY)
    dem = commands.add_parser("dem", help="SRTM .hgt tiles or ESRI ASCII grids -> dem.npz")
    sources = dem.add_mutually_exclusive_group(required=True)
    sources.add_argument("--hgt", type=Path, nargs="+")
    sources.add_argument("--asc", type=Path, nargs="+")
    dem.add_argument("--crs", default="EPSG:2154", help="CRS of the .asc grids")
    dem.add_argument("--bounds", type=float, nargs=4, metavar=("W", "S", "E", "N"))
    dem.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.command == "layers":
        build_layers(args.shared, args.out)
        return 0
    grid = (
        dem_from_hgt(args.hgt, tuple(args.bounds) if args.bounds else None)
        if args.hgt
        else dem_from_esri_ascii(args.asc, args.crs)
    )
    grid.save_npz(args.out)
    logger.info("wrote %s: %s samples, bounds %s", args.out, grid.heights_m.shape, grid.bounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
