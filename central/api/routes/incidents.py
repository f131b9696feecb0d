"""Incidents: filtered pages, one in detail, and the same list as GeoJSON for maps."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from central.api.deps import SessionDep
from central.api.schemas import (
    IncidentDetailPublic,
    IncidentPublic,
    Page,
    from_alert,
    from_incident,
    from_incident_detail,
)
from central.db import Camera
from central.incidents.lifecycle import IncidentStatus
from central.incidents.queries import (
    IncidentFilter,
    get_incident,
    incident_alerts,
    list_incidents,
    summarise,
)

router = APIRouter(prefix="/incidents", tags=["incidents"])
geojson_router = APIRouter(tags=["incidents"])

MAX_PAGE = 500
# A map shows at most this many incidents at once (the most recently active).
MAX_GEOJSON_FEATURES = 2000


def incident_filter(
    status: Annotated[list[IncidentStatus] | None, Query()] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    massif: str | None = None,
    commune: str | None = None,
) -> IncidentFilter:
    """Query parameters: ``status`` (repeatable), ``since``/``until`` (ISO 8601), names."""
    return IncidentFilter(tuple(status or ()), since, until, massif, commune)


FilterDep = Annotated[IncidentFilter, Depends(incident_filter)]


@router.get("", response_model=Page[IncidentPublic])
def incidents(
    session: SessionDep,
    wanted: FilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[IncidentPublic]:
    page = list_incidents(session, wanted, limit, offset)
    return Page[IncidentPublic](
        items=[from_incident(item) for item in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/{incident_id}", response_model=IncidentDetailPublic)
def incident(session: SessionDep, incident_id: int) -> IncidentDetailPublic:
    found = get_incident(session, incident_id)
    [summary] = summarise(session, [found])
    alerts = incident_alerts(session, incident_id)
    names = {
        pk: (site_id, camera_id)
        for pk, site_id, camera_id in session.execute(
            select(Camera.id, Camera.site_id, Camera.camera_id).where(
                Camera.id.in_({alert.camera_pk for alert in alerts})
            )
        ).all()
    }
    return from_incident_detail(
        summary,
        [from_alert(alert, *names[alert.camera_pk]) for alert in alerts],
    )


@geojson_router.get("/incidents.geojson")
def incidents_geojson(session: SessionDep, wanted: FilterDep) -> dict[str, Any]:
    """A FeatureCollection (RFC 7946, WGS84 lon/lat); unlocated incidents have no geometry."""
    page = list_incidents(session, wanted, MAX_GEOJSON_FEATURES, 0)
    features = []
    for item in page.items:
        public = from_incident(item)
        location = public.location
        geometry = None
        if location and location.latitude_deg is not None and location.longitude_deg is not None:
            geometry = {
                "type": "Point",
                "coordinates": [location.longitude_deg, location.latitude_deg],
            }
        properties = public.model_dump(mode="json", exclude={"location"})
        if location is not None:
            properties["location"] = location.model_dump(mode="json", exclude={"estimate"})
        features.append(
            {"type": "Feature", "id": public.id, "geometry": geometry, "properties": properties}
        )
    return {"type": "FeatureCollection", "features": features}
