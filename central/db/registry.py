"""Get-or-create of the sites, cameras and poses that messages name (cached per session).

Sites and cameras are created with ``INSERT ... ON CONFLICT DO NOTHING`` and read back: two
central instances that see a new camera at once both go on (one of them inserts it), where a
plain insert failed the other's whole batch on the unique key and replayed it one message at a
time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import contracts
from central.db.sites import FIXED_POSE_ID, Camera, Pose, Site
from central.db.writes import insert_missing

# Session.info keys of the per-session caches: a batch of messages names the same few cameras
# many times, and a unique-key SELECT per message would dominate ingest.
# The session's identity map holds unmodified rows weakly, so a plain get() would SELECT again.
_SITES = "vigifeu.sites"
_CAMERAS = "vigifeu.cameras"
_POSES = "vigifeu.poses"


def site_for(session: Session, site_id: str, seen_at: datetime) -> Site:
    cache: dict[str, Site] = session.info.setdefault(_SITES, {})
    site = cache.get(site_id) or session.get(Site, site_id)
    if site is None:
        insert_missing(session, Site, [{"site_id": site_id, "last_seen_at": seen_at}])
        site = session.get_one(Site, site_id)
    if site.last_seen_at is None or site.last_seen_at < seen_at:
        site.last_seen_at = seen_at
    cache[site_id] = site
    return site


def camera_for(session: Session, site_id: str, camera_id: str, seen_at: datetime) -> Camera:
    """The camera row (created with its site on first sight); its site's last_seen_at advances."""
    site_for(session, site_id, seen_at)
    cache: dict[tuple[str, str], Camera] = session.info.setdefault(_CAMERAS, {})
    camera = cache.get((site_id, camera_id))
    if camera is None:
        query = select(Camera).where(Camera.site_id == site_id, Camera.camera_id == camera_id)
        camera = session.scalar(query)
        if camera is None:
            insert_missing(session, Camera, [{"site_id": site_id, "camera_id": camera_id}])
            camera = session.scalars(query).one()
        cache[(site_id, camera_id)] = camera
    return camera


def pose_for(
    session: Session, camera: Camera, geometry: contracts.CameraGeometry, reported_at: datetime
) -> Pose:
    """The pose the geometry names, updated to it unless a newer report is already stored."""
    pose_id = geometry.pose_id or FIXED_POSE_ID
    cache: dict[tuple[int, str], Pose] = session.info.setdefault(_POSES, {})
    pose = cache.get((camera.id, pose_id))
    if pose is None:
        pose = session.scalar(
            select(Pose).where(Pose.camera_pk == camera.id, Pose.pose_id == pose_id)
        )
    created = pose is None
    if pose is None:
        pose = Pose(camera_pk=camera.id, pose_id=pose_id, reported_at=reported_at)
        session.add(pose)
    if created or pose.reported_at <= reported_at:
        # Written only when it differs: every alert reports the pose, and an unchanged
        # attribute still costs the unit of work a comparison at flush.
        for name, value in _pose_values(geometry).items():
            if created or getattr(pose, name) != value:
                setattr(pose, name, value)
        pose.reported_at = reported_at
    if created:
        session.flush()  # its id is referenced by the alert and event rows
    cache[(camera.id, pose_id)] = pose
    return pose


def _pose_values(geometry: contracts.CameraGeometry) -> dict[str, Any]:
    return {
        "azimuth_deg": geometry.azimuth_deg,
        "tilt_deg": geometry.tilt_deg,
        "roll_deg": geometry.roll_deg,
        "hfov_deg": geometry.hfov_deg,
        "vfov_deg": geometry.vfov_deg,
        "image_width_px": geometry.image_width_px,
        "image_height_px": geometry.image_height_px,
        "lens": geometry.lens.model_dump(mode="json"),
    }


def forget_cached(session: Session) -> None:
    """Drop the caches (after a rollback their rows may not exist)."""
    for key in (_SITES, _CAMERAS, _POSES):
        session.info.pop(key, None)
