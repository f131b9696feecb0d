"""Alerts as received, newest first, filterable by camera and time."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from central.api.deps import SessionDep
from central.api.schemas import AlertPublic, Page, from_alert
from central.db import Alert, Camera
from central.errors import NotFound

router = APIRouter(prefix="/alerts", tags=["alerts"])

MAX_PAGE = 500


@router.get("", response_model=Page[AlertPublic])
def alerts(
    session: SessionDep,
    site_id: str | None = None,
    camera_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AlertPublic]:
    query = select(Alert, Camera.site_id, Camera.camera_id).join(
        Camera, Alert.camera_pk == Camera.id
    )
    if site_id is not None:
        query = query.where(Camera.site_id == site_id)
    if camera_id is not None:
        query = query.where(Camera.camera_id == camera_id)
    if since is not None:
        query = query.where(Alert.captured_at >= since)
    if until is not None:
        query = query.where(Alert.captured_at <= until)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(
        query.options(selectinload(Alert.snapshots))
        .order_by(Alert.captured_at.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return Page[AlertPublic](
        items=[from_alert(alert, site, camera) for alert, site, camera in rows],
        total=int(total or 0),
        limit=limit,
        offset=offset,
    )


@router.get("/{alert_id}", response_model=AlertPublic)
def alert(session: SessionDep, alert_id: uuid.UUID) -> AlertPublic:
    row = session.execute(
        select(Alert, Camera.site_id, Camera.camera_id)
        .join(Camera, Alert.camera_pk == Camera.id)
        .where(Alert.alert_id == alert_id)
        .options(selectinload(Alert.snapshots))
    ).first()
    if row is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return from_alert(*row)
