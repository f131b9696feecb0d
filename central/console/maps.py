"""Map scenes of the console: the geodata layers plus an incident's cameras, rays and ellipse."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console.mapsvg import MapCamera, MapEstimate, MapLayer, MapRay, MapScene
from central.db import Camera, Incident
from central.dispatch.facts import camera_views
from central.geo.geodata import layer_geojson

logger = logging.getLogger(__name__)

# (layer name in central.geo, label property); drawn in this order, bottom first.
LAYERS: tuple[tuple[str, str | None], ...] = (
    ("forest", None),
    ("department", None),
    ("communes", "name"),
    ("massifs", "name"),
    ("fire_stations", "name"),
    ("camera_sites", "name"),
)
# Bearing spread drawn when the locator gave none: the calibrated-camera budget (0.3 deg) plus
# the box-centre approximation.
DEFAULT_SIGMA_DEG = 0.5


@dataclass(frozen=True, slots=True)
class MapLayers:
    layers: tuple[MapLayer, ...]


def load_layers() -> MapLayers:
    """Parse every layer once; a missing one is logged and left out (the map still draws)."""
    layers = []
    for name, label in LAYERS:
        try:
            layers.append(MapLayer.from_geojson(name, layer_geojson(name), label))
        except (KeyError, OSError, ValueError) as error:
            logger.warning("map layer %s unavailable: %s", name, error)
    return MapLayers(tuple(layers))


def _cameras(session: Session) -> dict[str, MapCamera]:
    return {
        camera.key: MapCamera(camera.key, camera.latitude_deg, camera.longitude_deg)
        for camera in session.scalars(select(Camera))
        if camera.latitude_deg is not None and camera.longitude_deg is not None
    }


def _rays(session: Session, incident: Incident, cameras: dict[str, MapCamera]) -> list[MapRay]:
    estimate: dict[str, Any] = incident.location.estimate if incident.location else {}
    rays = []
    for bearing in (estimate or {}).get("bearings", []):
        camera = cameras.get(str(bearing.get("camera_key")))
        if camera is None or bearing.get("azimuth_deg") is None:
            continue
        interval = bearing.get("range_interval_m")
        rays.append(
            MapRay(
                camera,
                float(bearing["azimuth_deg"]),
                float(bearing.get("azimuth_sigma_deg") or DEFAULT_SIGMA_DEG),
                (float(interval[0]), None if interval[1] is None else float(interval[1]))
                if interval
                else None,
            )
        )
    if rays:
        return rays
    return [
        MapRay(cameras[view.camera_key], view.azimuth_deg, DEFAULT_SIGMA_DEG)
        for view in camera_views(session, incident)
        if view.camera_key in cameras
    ]


def _estimate(incident: Incident) -> MapEstimate | None:
    location = incident.location
    if location is None or location.latitude_deg is None or location.longitude_deg is None:
        return None
    return MapEstimate(
        location.latitude_deg,
        location.longitude_deg,
        location.semi_major_m,
        location.semi_minor_m,
        location.orientation_deg,
        f"n° {incident.id}",
    )


def incident_scene(session: Session, layers: MapLayers, incident: Incident) -> MapScene | None:
    """The incident's cameras, their bearing cones and the estimated position (None: nothing
    to draw, e.g. an incident whose cameras never reported a position)."""
    cameras = _cameras(session)
    rays = _rays(session, incident, cameras)
    estimate = _estimate(incident)
    if not rays and estimate is None:
        return None
    used = {ray.camera.key for ray in rays}
    return MapScene(
        layers.layers,
        rays=rays,
        estimates=[estimate] if estimate else [],
        cameras=[camera for key, camera in cameras.items() if key in used],
    )


def overview_scene(
    session: Session, layers: MapLayers, incidents: Sequence[Incident]
) -> MapScene | None:
    """The department with every camera and every located open incident."""
    cameras = list(_cameras(session).values())
    estimates = [e for e in (_estimate(incident) for incident in incidents) if e is not None]
    focus = []
    for layer in layers.layers:
        if layer.role == "department" and layer.geometries:
            west, south, east, north = layer.geometries[0].bounds
            focus = [(south, west), (north, east)]
    if not cameras and not estimates and not focus:
        return None
    return MapScene(layers.layers, estimates=estimates, cameras=cameras, focus=focus)
