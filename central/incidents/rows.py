"""The rows one ingest batch writes for its alerts, gathered and then inserted in bulk.

Pictures are content-addressed by sha256: each JPEG is decoded from base64 and sent to the
database once per session, and a picture another batch or instance already stored is skipped
by the insert itself (``central.db.writes.insert_missing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

import contracts
from central.db import Alert, AlertSnapshot, Snapshot, utc_now
from central.db.writes import insert_missing, insert_returning_ids, insert_rows


@dataclass
class AlertRows:
    """Rows gathered in arrival order; ``write`` inserts them into the session's transaction."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    links: list[list[dict[str, Any]]] = field(default_factory=list)  # per alert, its pictures
    pictures: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        alert: contracts.AlertMessage,
        camera_pk: int,
        pose_pk: int,
        known_pictures: set[str],
    ) -> None:
        """Gather ``alert``; ``known_pictures`` (sha256) grows with the pictures it carries."""
        self.alerts.append(
            {
                "alert_id": alert.alert_id,
                "event_id": alert.event_id,
                "sequence": alert.sequence,
                "state": alert.state.value,
                "camera_pk": camera_pk,
                "pose_pk": pose_pk,
                "captured_at": alert.captured_at,
                "received_at": utc_now(),
                "detection_class": alert.detection_class.value,
                "score": alert.score,
                "boxes": [box.model_dump(mode="json") for box in alert.boxes],
                "geometry": alert.camera.model_dump(mode="json"),
                "model_name": alert.model.name,
                "model_version": alert.model.version,
                "model_sha256": alert.model.sha256,
            }
        )
        links = []
        for snapshot in alert.snapshots:
            if snapshot.sha256 not in known_pictures:
                known_pictures.add(snapshot.sha256)
                jpeg = snapshot.jpeg_bytes()  # decoded once, by the contract's validation
                self.pictures.append(
                    {
                        "sha256": snapshot.sha256,
                        "content_type": snapshot.content_type,
                        "width_px": snapshot.width_px,
                        "height_px": snapshot.height_px,
                        "byte_size": len(jpeg),
                        "data": jpeg,
                        "created_at": utc_now(),
                    }
                )
            crop_box = snapshot.crop_box.model_dump(mode="json") if snapshot.crop_box else None
            links.append(
                {
                    "sha256": snapshot.sha256,
                    "kind": snapshot.kind.value,
                    "width_px": snapshot.width_px,
                    "height_px": snapshot.height_px,
                    "crop_box": crop_box,
                }
            )
        self.links.append(links)

    def write(self, session: Session) -> None:
        """Insert pictures, alerts and their links (events and cameras must be flushed)."""
        insert_missing(session, Snapshot, self.pictures)
        alert_pks = insert_returning_ids(session, Alert, self.alerts, "alert_id")
        insert_rows(
            session,
            AlertSnapshot,
            [
                {**link, "alert_pk": alert_pks[alert["alert_id"]]}
                for alert, links in zip(self.alerts, self.links, strict=True)
                for link in links
            ],
        )
