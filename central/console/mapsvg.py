"""The console map, drawn as SVG on the server from local GeoJSON: no tiles, no library, offline.

Projection: azimuthal equidistant centred on the map centre (metres), so distances and the
bearings drawn from a camera near the centre read true; at the 30-60 km of a lookout map the
scale error at the edges stays under 0.01 %. SVG y grows downward, so north is ``-y``.
Layers are clipped to the view and simplified to about one screen pixel before they are drawn,
which keeps an incident map under ~150 kB even with the forest layer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import shapely
from pyproj import Geod, Transformer
from shapely import STRtree
from shapely import box as shapely_box
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")
WIDTH_PX = 800
HEIGHT_PX = 600
# Narrowest view: 6 km across still shows the next ridge and commune around a point fix.
MIN_SPAN_M = 6000.0
# A ray is drawn to this range when nothing bounds it: beyond 40 km a lookout cannot see smoke.
DEFAULT_RAY_M = 40_000.0
MARGIN = 0.15
RAY_OVERSHOOT_M = 2000.0


@dataclass(frozen=True, slots=True)
class MapCamera:
    key: str
    latitude_deg: float
    longitude_deg: float


@dataclass(frozen=True, slots=True)
class MapRay:
    """A camera's bearing to the smoke: a line, and a cone of +/- 2 sigma."""

    camera: MapCamera
    azimuth_deg: float
    sigma_deg: float
    range_m: tuple[float, float | None] | None = None  # DEM interval, when known


@dataclass(frozen=True, slots=True)
class MapEstimate:
    latitude_deg: float
    longitude_deg: float
    semi_major_m: float | None  # 1-sigma
    semi_minor_m: float | None
    orientation_deg: float | None  # major axis, clockwise from north
    label: str = ""


@dataclass(frozen=True, slots=True)
class MapLayer:
    """A GeoJSON layer parsed once (WGS84 lon/lat), with a spatial index.

    ``role`` picks the style: massifs, forest, communes, camera_sites, fire_stations.
    """

    role: str
    geometries: tuple[BaseGeometry, ...]
    names: tuple[str, ...]
    tree: STRtree

    @classmethod
    def from_geojson(
        cls, role: str, collection: dict[str, Any], label_property: str | None = None
    ) -> MapLayer:
        geometries, names = [], []
        for feature in collection.get("features", []):
            if not feature.get("geometry"):
                continue
            geometry = shape(feature["geometry"])
            # Clipping an invalid polygon raises in GEOS; repair once here, not per drawing.
            geometries.append(geometry if geometry.is_valid else shapely.make_valid(geometry))
            properties = feature.get("properties") or {}
            names.append(str(properties.get(label_property or "", "") or ""))
        return cls(role, tuple(geometries), tuple(names), STRtree(geometries))


@dataclass(frozen=True, slots=True)
class MapScene:
    layers: Sequence[MapLayer]
    rays: Sequence[MapRay] = ()
    estimates: Sequence[MapEstimate] = ()
    cameras: Sequence[MapCamera] = ()
    focus: Sequence[tuple[float, float]] = field(default=())  # extra (lat, lon) to keep in view


class _Frame:
    """Local AEQD metres around a centre, then scaled to SVG pixels."""

    def __init__(self, centre_lat: float, centre_lon: float, half_span_m: float) -> None:
        self.to_local = Transformer.from_crs(
            "EPSG:4326",
            f"+proj=aeqd +lat_0={centre_lat} +lon_0={centre_lon} +datum=WGS84 +units=m",
            always_xy=True,
        )
        aspect = WIDTH_PX / HEIGHT_PX
        self.half_h = half_span_m if aspect >= 1 else half_span_m / aspect
        self.half_w = self.half_h * aspect
        self.px_per_m = WIDTH_PX / (2 * self.half_w)

    def local(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, self.to_local.transform, interleaved=False)

    def xy(self, x_m: float, y_m: float) -> tuple[float, float]:
        return (x_m + self.half_w) * self.px_per_m, (self.half_h - y_m) * self.px_per_m

    @property
    def view(self) -> Polygon:
        return shapely_box(-self.half_w, -self.half_h, self.half_w, self.half_h)

    def view_lonlat(self) -> Polygon:
        """The view as a WGS84 polygon (edges densified: AEQD lines are curves in degrees)."""
        ring = self.view.segmentize(self.half_w / 8).exterior.coords
        lons, lats = self.to_local.transform(
            [x for x, _ in ring], [y for _, y in ring], direction="INVERSE"
        )
        return Polygon(zip(lons, lats, strict=True))


def _ray_end(ray: MapRay, azimuth_deg: float, distance_m: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(
        ray.camera.longitude_deg, ray.camera.latitude_deg, azimuth_deg, distance_m
    )
    return float(lon), float(lat)


def _geodesic(
    ray: MapRay, azimuth_deg: float, start_m: float, end_m: float
) -> list[tuple[float, float]]:
    steps = 24
    return [
        _ray_end(ray, azimuth_deg, start_m + (end_m - start_m) * i / steps)
        for i in range(steps + 1)
    ]


def _extent(scene: MapScene) -> tuple[float, float, float]:
    """Centre (lat, lon) and half span in metres that hold the estimates, cameras and focus."""
    points = [(e.latitude_deg, e.longitude_deg) for e in scene.estimates]
    points += [(c.latitude_deg, c.longitude_deg) for c in scene.cameras]
    points += [(r.camera.latitude_deg, r.camera.longitude_deg) for r in scene.rays]
    points += list(scene.focus)
    if not scene.estimates:
        # Without a position the interesting part is where the rays go: include their far ends.
        for ray in scene.rays:
            far = (ray.range_m[1] if ray.range_m and ray.range_m[1] else None) or 20_000.0
            lon, lat = _ray_end(ray, ray.azimuth_deg, far)
            points.append((lat, lon))
    if not points:
        raise ValueError("a map needs at least one estimate, camera, ray or focus point")
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    centre_lat, centre_lon = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    frame = _Frame(centre_lat, centre_lon, 1.0)
    xs, ys = frame.to_local.transform(lons, lats)
    half = max(max(abs(v) for v in xs), max(abs(v) for v in ys)) * (1 + MARGIN)
    for estimate in scene.estimates:
        half = max(half, 3 * (estimate.semi_major_m or 0.0))
    return centre_lat, centre_lon, max(half, MIN_SPAN_M / 2)


def _path(geometry: BaseGeometry, frame: _Frame) -> str:
    parts: list[str] = []
    for ring in _rings(geometry):
        coords = [frame.xy(x, y) for x, y in ring]
        if len(coords) < 2:
            continue
        parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in coords))
        if ring[0] == ring[-1]:
            parts[-1] += "Z"
    return "".join(parts)


def _rings(geometry: BaseGeometry) -> Iterable[list[tuple[float, float]]]:
    kind = geometry.geom_type
    if kind == "Polygon":
        yield list(geometry.exterior.coords)
        for interior in geometry.interiors:
            yield list(interior.coords)
    elif kind == "LineString":
        yield list(geometry.coords)
    elif kind.startswith("Multi") or kind == "GeometryCollection":
        for part in geometry.geoms:
            yield from _rings(part)


def _layer_svg(layer: MapLayer, frame: _Frame) -> list[str]:
    out = [f'<g class="layer layer-{escape(layer.role)}">']
    view = frame.view
    tolerance_m = 1.0 / frame.px_per_m
    for index in sorted(layer.tree.query(frame.view_lonlat(), predicate="intersects")):
        local = frame.local(layer.geometries[index])
        name = layer.names[index]
        if local.geom_type in ("Point", "MultiPoint"):
            for point in getattr(local, "geoms", [local]):
                x, y = frame.xy(point.x, point.y)
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4"><title>{escape(name)}</title></circle>'
                )
            continue
        clipped = local.intersection(view).simplify(tolerance_m, preserve_topology=True)
        if clipped.is_empty:
            continue
        out.append(f'<path d="{_path(clipped, frame)}"><title>{escape(name)}</title></path>')
        if name and clipped.area * frame.px_per_m**2 > 4000:
            anchor = clipped.representative_point()
            x, y = frame.xy(anchor.x, anchor.y)
            out.append(f'<text class="label" x="{x:.1f}" y="{y:.1f}">{escape(name)}</text>')
    out.append("</g>")
    return out


def _ray_length_m(ray: MapRay, estimates: Sequence[MapEstimate]) -> float:
    """Draw a ray a little past the farthest estimate (beyond, it only hides the map)."""
    if not estimates:
        return DEFAULT_RAY_M
    distances = [
        float(
            GEOD.inv(
                ray.camera.longitude_deg, ray.camera.latitude_deg, e.longitude_deg, e.latitude_deg
            )[2]
        )
        + 3 * (e.semi_major_m or 0.0)
        for e in estimates
    ]
    return min(DEFAULT_RAY_M, 1.2 * max(distances) + RAY_OVERSHOOT_M)


def _ray_svg(ray: MapRay, frame: _Frame, far: float) -> list[str]:
    """The cone (+/- 2 sigma), the bearing (dashed) and, where the DEM bounds the distance,
    the stretch of the bearing where the smoke can be (solid)."""
    spread = 2 * ray.sigma_deg
    # One apex point: two geodesics "from distance 0" differ in the last bits and would make a
    # bow tie that GEOS refuses to clip.
    apex = (ray.camera.longitude_deg, ray.camera.latitude_deg)
    left = _geodesic(ray, ray.azimuth_deg - spread, 0.0, far)[1:]
    right = _geodesic(ray, ray.azimuth_deg + spread, 0.0, far)[1:]
    cone = frame.local(Polygon([apex, *left, *reversed(right)]))
    line = frame.local(LineString(_geodesic(ray, ray.azimuth_deg, 0.0, far)))
    title = f"{ray.camera.key} : dans mes {ray.azimuth_deg % 360:03.0f}°"
    out = [
        f'<g class="ray" data-camera={quoteattr(ray.camera.key)}><title>{escape(title)}</title>',
        f'<path class="cone" d="{_path(cone.intersection(frame.view), frame)}"/>',
        f'<path class="bearing" d="{_path(line.intersection(frame.view), frame)}"/>',
    ]
    if ray.range_m is not None:
        near, limit = ray.range_m[0], min(ray.range_m[1] or far, far)
        likely = frame.local(LineString(_geodesic(ray, ray.azimuth_deg, near, limit)))
        out.append(
            f'<path class="bearing-range" d="{_path(likely.intersection(frame.view), frame)}"/>'
        )
    out.append("</g>")
    return out


def _estimate_svg(estimate: MapEstimate, frame: _Frame) -> list[str]:
    centre = frame.local(Point(estimate.longitude_deg, estimate.latitude_deg))
    x, y = frame.xy(centre.x, centre.y)
    out = ['<g class="estimate">']
    if estimate.semi_major_m and estimate.semi_minor_m:
        rx = estimate.semi_major_m * frame.px_per_m
        ry = estimate.semi_minor_m * frame.px_per_m
        # Major axis clockwise from north; SVG rotates clockwise from +x (east): minus 90.
        rotation = (estimate.orientation_deg or 0.0) - 90.0
        for k, css in ((2.0, "ellipse-2s"), (1.0, "ellipse-1s")):
            out.append(
                f'<ellipse class="{css}" cx="{x:.1f}" cy="{y:.1f}" rx="{k * rx:.1f}" '
                f'ry="{k * ry:.1f}" transform="rotate({rotation:.1f} {x:.1f} {y:.1f})"/>'
            )
    out.append(
        f'<path class="fire" d="M{x:.1f},{y - 9:.1f}L{x + 7:.1f},{y + 6:.1f}L{x - 7:.1f},{y + 6:.1f}Z"/>'
    )
    if estimate.label:
        out.append(
            f'<text class="estimate-label" x="{x + 10:.1f}" y="{y - 8:.1f}">{escape(estimate.label)}</text>'
        )
    out.append("</g>")
    return out


def _scale_bar(frame: _Frame) -> list[str]:
    target_m = (WIDTH_PX / 5) / frame.px_per_m
    magnitude = 10 ** math.floor(math.log10(target_m))
    length_m = max(step * magnitude for step in (1, 2, 5) if step * magnitude <= target_m)
    length_px = length_m * frame.px_per_m
    text = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    y = HEIGHT_PX - 16
    return [
        '<g class="scale">',
        f'<path d="M16,{y}h{length_px:.1f}"/>',
        f'<text x="{16 + length_px / 2:.1f}" y="{y - 6}">{text}</text>',
        f'<text class="north" x="{WIDTH_PX - 24}" y="28">N</text>',
        f'<path class="north" d="M{WIDTH_PX - 20},34l-6,16l6,-4l6,4z"/>',
        "</g>",
    ]


def render_map(scene: MapScene) -> str:
    """The SVG document (a string, ready to inline in a page)."""
    frame = _Frame(*_extent(scene))
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {WIDTH_PX} {HEIGHT_PX}" '
        f'role="img" aria-label="carte">',
        f'<rect class="background" width="{WIDTH_PX}" height="{HEIGHT_PX}"/>',
    ]
    for layer in scene.layers:
        body += _layer_svg(layer, frame)
    for ray in scene.rays:
        body += _ray_svg(ray, frame, _ray_length_m(ray, scene.estimates))
    for camera in scene.cameras:
        point = frame.local(Point(camera.longitude_deg, camera.latitude_deg))
        x, y = frame.xy(point.x, point.y)
        body.append(
            f'<g class="camera"><path d="M{x:.1f},{y - 7:.1f}l7,12h-14z"/>'
            f'<text x="{x + 9:.1f}" y="{y + 4:.1f}">{escape(camera.key)}</text></g>'
        )
    for estimate in scene.estimates:
        body += _estimate_svg(estimate, frame)
    body += _scale_bar(frame)
    body.append("</svg>")
    return "\n".join(body)
