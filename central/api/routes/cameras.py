"""Cameras with their health (online, heartbeat, frame age, blind, frozen, outbox) and poses."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from central.api.deps import SessionDep
from central.api.schemas import CameraPublic, from_camera
from central.camera_health import camera_health
from central.db import Camera, utc_now
from central.errors import NotFound

router = APIRouter(prefix="/cameras", tags=["cameras"])


def _public(camera: Camera) -> CameraPublic:
    edge_state = camera.site.edge_state
    return from_camera(camera, edge_state, camera_health(camera, edge_state, utc_now()))


@router.get("", response_model=list[CameraPublic])
def cameras(session: SessionDep) -> list[CameraPublic]:
    rows = session.scalars(
        select(Camera)
        .options(selectinload(Camera.poses), selectinload(Camera.site))
        .order_by(Camera.site_id, Camera.camera_id)
    ).all()
    return [_public(camera) for camera in rows]


@router.get("/{site_id}/{camera_id}", response_model=CameraPublic)
def camera(session: SessionDep, site_id: str, camera_id: str) -> CameraPublic:
    found = session.scalar(
        select(Camera)
        .where(Camera.site_id == site_id, Camera.camera_id == camera_id)
        .options(selectinload(Camera.poses), selectinload(Camera.site))
    )
    if found is None:
        raise NotFound(f"camera {site_id}/{camera_id} does not exist")
    return _public(found)
