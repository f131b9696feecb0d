"""Where an incident is: the latest sighting of each camera, handed to the locator, stored.

An incident is re-located when its sightings change: a new camera, or a box that moved. Within
an ingest batch it is located once, after all its alerts (``locate_incidents``), because a fix
costs ~15-20 ms of DEM ray casting and a burst of updates of one fire would repeat it for
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

import contracts
from central.db import Alert, Camera, Event, Incident, Location, utc_now
from central.geo.locate import LocationEstimate, Sighting

logger = logging.getLogger(__name__)

# Sightings are compared after rounding the box to 0.1 % of the frame: 0.06 deg on a 60 deg
# lens, a fifth of the 0.3 deg bearing sigma, so a box that moved less cannot move the fix.
BOX_DIGITS = 3
ANGLE_DIGITS = 2


class Locator(Protocol):
    """``central.geo.Locator`` or a fake: sightings of one fire -> located estimate."""

    def locate(self, sightings: Sequence[Sighting]) -> LocationEstimate: ...

    def distance_interval_m(self, sighting: Sighting) -> tuple[float, float | None] | None:
        """Ground distances (near, far or None = open) where the terrain allows the smoke
        base of one sighting; None when the terrain says nothing."""
        ...


def _sighting_of(
    boxes: list[dict[str, Any]], geometry: dict[str, Any], captured_at: datetime, camera_key: str
) -> Sighting | None:
    """A sighting from stored alert columns (boxes and geometry as the contract sent them)."""
    if not boxes:
        return None
    return Sighting(
        camera_key=camera_key,
        geometry=contracts.CameraGeometry.model_validate(geometry),
        box=contracts.BoundingBox.model_validate(max(boxes, key=lambda box: box["score"])),
        captured_at=captured_at,
    )


def latest_sightings_of(
    session: Session, incident_ids: Collection[int]
) -> dict[int, list[Sighting]]:
    """For each incident, the most recent boxed alert of each of its cameras, as sightings.

    One query for all the incidents (clustering asks for every open one at once).
    """
    found: dict[int, dict[str, Sighting]] = {incident_id: {} for incident_id in incident_ids}
    if not found:
        return {}
    not_end = Alert.state != contracts.EventState.END.value
    latest = (
        select(
            Event.incident_id,
            Alert.camera_pk,
            func.max(Alert.captured_at).label("captured_at"),
        )
        .join(Event, Alert.event_id == Event.id)
        .where(Event.incident_id.in_(found), not_end)
        .group_by(Event.incident_id, Alert.camera_pk)
        .subquery()
    )
    # Columns, not Alert entities: clustering reads this for every open incident, and loading
    # ORM rows cost ~3x more.
    rows = session.execute(
        select(
            Alert.boxes,
            Alert.geometry,
            Alert.captured_at,
            Event.incident_id,
            Camera.site_id,
            Camera.camera_id,
        )
        .join(Event, Alert.event_id == Event.id)
        .join(Camera, Alert.camera_pk == Camera.id)
        .join(
            latest,
            (Event.incident_id == latest.c.incident_id)
            & (Alert.camera_pk == latest.c.camera_pk)
            & (Alert.captured_at == latest.c.captured_at),
        )
        .where(not_end)
        .order_by(Alert.id.desc())
    ).all()
    for boxes, geometry, captured_at, incident_id, site_id, camera_id in rows:
        key = f"{site_id}/{camera_id}"
        if key in found[incident_id]:
            continue
        sighting = _sighting_of(boxes, geometry, captured_at, key)
        if sighting is not None:
            found[incident_id][key] = sighting
    return {
        incident_id: [sightings[key] for key in sorted(sightings)]
        for incident_id, sightings in found.items()
    }


def sighting_signature(sightings: Sequence[Sighting]) -> list[dict[str, Any]]:
    """What the location depends on, rounded (see ``BOX_DIGITS``); stored with the location."""
    signature = []
    for sighting in sorted(sightings, key=lambda s: s.camera_key):
        camera, box = sighting.geometry, sighting.box
        signature.append(
            {
                "camera_key": sighting.camera_key,
                "pose_id": camera.pose_id,
                "angles_deg": [
                    round(value, ANGLE_DIGITS)
                    for value in (camera.azimuth_deg, camera.tilt_deg, camera.roll_deg)
                ],
                "box": [round(v, BOX_DIGITS) for v in (box.x_min, box.y_min, box.x_max, box.y_max)],
            }
        )
    return signature


def store_location(
    session: Session,
    incident: Incident,
    estimate: LocationEstimate,
    signature: list[dict[str, Any]],
) -> Location:
    """Write ``estimate`` as the incident's current location (one row, revised in place)."""
    document = estimate.to_json()
    attribution = estimate.attribution
    values = {
        "computed_at": utc_now(),
        "method": estimate.method,
        "camera_count": len(estimate.bearings),
        "latitude_deg": estimate.latitude_deg,
        "longitude_deg": estimate.longitude_deg,
        "semi_major_m": estimate.semi_major_m,
        "semi_minor_m": estimate.semi_minor_m,
        "orientation_deg": estimate.orientation_deg,
        "degenerate": estimate.degenerate,
        "dfci_code": attribution.dfci_code if attribution else None,
        "commune": attribution.commune if attribution else None,
        "commune_insee": attribution.commune_insee if attribution else None,
        "massif": attribution.massif if attribution else None,
        "attribution": document.get("attribution"),
        "estimate": document,
        "sightings": signature,
    }
    location = incident.location
    if location is None:
        location = Location(incident_id=incident.id, revision=1, **values)
        session.add(location)
        incident.location = location
    else:
        for name, value in values.items():
            setattr(location, name, value)
        location.revision += 1
    return location


def _relocate(
    session: Session, incident: Incident, sightings: Sequence[Sighting], locator: Locator
) -> bool:
    """Locate ``incident`` from ``sightings``; False when they did not change or it failed."""
    signature = sighting_signature(sightings)
    if not sightings or (incident.location and incident.location.sightings == signature):
        return False
    try:
        estimate = locator.locate(sightings)
    except Exception:
        # A geolocation bug must not lose the alert: it is stored, the location stays as it was.
        logger.exception("locating incident %d failed; keeping its previous location", incident.id)
        return False
    store_location(session, incident, estimate, signature)
    return True


def locate_incidents(session: Session, incident_ids: Iterable[int], locator: Locator) -> set[int]:
    """(Re-)locate each incident once from its latest sightings (the end of an ingest batch);
    the ids whose location was recomputed. Two queries for all the incidents."""
    wanted = sorted(set(incident_ids))
    if not wanted:
        return set()
    session.flush()  # the sightings are read back, this session's alerts included
    incidents = session.scalars(
        select(Incident).where(Incident.id.in_(wanted)).options(selectinload(Incident.location))
    ).all()
    sightings = latest_sightings_of(session, wanted)
    return {
        incident.id
        for incident in sorted(incidents, key=lambda incident: incident.id)
        if _relocate(session, incident, sightings[incident.id], locator)
    }
