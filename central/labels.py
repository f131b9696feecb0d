"""``vigifeu export-labels``: operator verdicts -> a YOLO dataset that ``vigifeu train`` accepts.

What is exported, for incidents first seen since ``--since``:

* confirmed smoke (status confirmed or dispatched, or closed after a confirmation or a
  dispatch): every full frame with its alert's boxes, class 0 smoke / 1 fire. The boxes are the
  detector's, verified by a person at the incident level, not redrawn;
* dismissed incidents: every full frame as a hard negative (an empty label file), its
  false-positive type (cloud, fog_haze, ...) in ``manifest.csv``.

Incidents closed without a verdict are left out. Splits are by incident (all frames of one fire
on the same side, so that near-identical frames never straddle train and val), chosen by a
stable hash of the incident id; each split gets at least one incident when there are two.
Each picture is written once (snapshots are content-addressed).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import (
    Alert,
    AlertSnapshot,
    AuditEntry,
    Camera,
    Event,
    Incident,
    Snapshot,
    make_engine,
    make_session_factory,
)
from central.incidents.lifecycle import IncidentStatus
from central.settings import CentralSettings

logger = logging.getLogger(__name__)

CLASS_IDS = {"smoke": 0, "fire": 1}
# One incident in five goes to validation: with a few dozen judged fires a season, that keeps
# a validation set of several fires while training on most of them.
VAL_EVERY = 5
CONFIRMING_ACTIONS = ("incident.confirmed", "incident.dispatched")
MANIFEST_FIELDS = (
    "file",
    "split",
    "incident_id",
    "verdict",
    "false_positive_type",
    "camera",
    "captured_at",
    "alert_id",
    "boxes",
    "sha256",
)


@dataclass(frozen=True, slots=True)
class JudgedFrame:
    incident_id: int
    verdict: str  # "smoke" | "false_positive"
    false_positive_type: str | None
    camera: str
    captured_at: datetime
    alert_id: str
    sha256: str
    boxes: tuple[dict[str, Any], ...]


def yolo_lines(boxes: Iterable[dict[str, Any]]) -> list[str]:
    """Contract boxes (normalised xyxy) -> ``class cx cy w h`` lines, clipped to the frame."""
    lines = []
    for box in boxes:
        x_min, y_min = max(0.0, float(box["x_min"])), max(0.0, float(box["y_min"]))
        x_max, y_max = min(1.0, float(box["x_max"])), min(1.0, float(box["y_max"]))
        if x_max <= x_min or y_max <= y_min:
            continue
        class_id = CLASS_IDS[str(box["detection_class"])]
        lines.append(
            f"{class_id} {(x_min + x_max) / 2:.6f} {(y_min + y_max) / 2:.6f} "
            f"{x_max - x_min:.6f} {y_max - y_min:.6f}"
        )
    return lines


def _verdicts(session: Session, since: datetime) -> dict[int, tuple[str, str | None]]:
    """Incident id -> (verdict, false-positive type) for the judged incidents since ``since``."""
    confirmed_before_close = set(
        session.scalars(
            select(AuditEntry.incident_id).where(AuditEntry.action.in_(CONFIRMING_ACTIONS))
        )
    )
    verdicts: dict[int, tuple[str, str | None]] = {}
    for incident in session.scalars(select(Incident).where(Incident.first_seen_at >= since)):
        status = IncidentStatus(incident.status)
        if status is IncidentStatus.DISMISSED:
            verdicts[incident.id] = ("false_positive", incident.false_positive_type or "other")
        elif status in (IncidentStatus.CONFIRMED, IncidentStatus.DISPATCHED) or (
            status is IncidentStatus.CLOSED and incident.id in confirmed_before_close
        ):
            verdicts[incident.id] = ("smoke", None)
    return verdicts


def judged_frames(session: Session, since: datetime) -> list[JudgedFrame]:
    """Every full frame of every judged incident, each picture once, in capture order."""
    verdicts = _verdicts(session, since)
    if not verdicts:
        return []
    rows = session.execute(
        select(Alert, AlertSnapshot.sha256, Event.incident_id, Camera.site_id, Camera.camera_id)
        .join(Event, Event.id == Alert.event_id)
        .join(AlertSnapshot, AlertSnapshot.alert_pk == Alert.id)
        .join(Camera, Camera.id == Alert.camera_pk)
        .where(Event.incident_id.in_(verdicts), AlertSnapshot.kind == "full")
        .order_by(Alert.captured_at, Alert.id)
    ).all()
    frames: dict[str, JudgedFrame] = {}
    for alert, sha, incident_id, site_id, camera_id in rows:
        verdict, false_positive = verdicts[incident_id]
        if sha in frames or (verdict == "smoke" and not alert.boxes):
            continue  # an end alert's frame has no box: not a positive, not a judged negative
        frames[sha] = JudgedFrame(
            incident_id=incident_id,
            verdict=verdict,
            false_positive_type=false_positive,
            camera=f"{site_id}/{camera_id}",
            captured_at=alert.captured_at,
            alert_id=str(alert.alert_id),
            sha256=sha,
            boxes=tuple(alert.boxes) if verdict == "smoke" else (),
        )
    return list(frames.values())


def assign_splits(incident_ids: Iterable[int]) -> dict[int, str]:
    """Stable incident -> split; at least one incident on each side when there are two."""
    ids = sorted(set(incident_ids))

    def bucket(incident_id: int) -> int:
        return int(hashlib.sha256(f"incident-{incident_id}".encode()).hexdigest(), 16) % VAL_EVERY

    splits = {i: "val" if bucket(i) == 0 else "train" for i in ids}
    if len(ids) >= 2 and "val" not in splits.values():
        splits[min(ids, key=bucket)] = "val"
    if len(ids) >= 2 and "train" not in splits.values():
        splits[max(ids, key=bucket)] = "train"
    return splits


def frame_splits(frames: list[JudgedFrame]) -> list[str]:
    """The split of each frame: its incident's, or, with a single incident, every fifth frame
    and the last one in validation (the two sets then come from the same fire)."""
    by_incident = assign_splits(frame.incident_id for frame in frames)
    if len(by_incident) != 1:
        return [by_incident[frame.incident_id] for frame in frames]
    logger.warning("only one judged incident: validation frames come from the same fire")
    last = len(frames) - 1
    return [
        "val" if index % VAL_EVERY == VAL_EVERY - 1 or (index == last and index > 0) else "train"
        for index in range(len(frames))
    ]


@dataclass(frozen=True, slots=True)
class ExportSummary:
    images: dict[str, int]
    positives: int
    negatives: int
    incidents: int


def export_labels(session: Session, since: datetime, out: Path) -> ExportSummary:
    """Write the dataset into ``out`` (created; files of the same name are replaced)."""
    frames = judged_frames(session, since)
    splits = frame_splits(frames)
    counts = {"train": 0, "val": 0}
    for split in counts:
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    with (out / "manifest.csv").open("w", newline="", encoding="utf-8") as manifest_file:
        manifest = csv.DictWriter(manifest_file, fieldnames=MANIFEST_FIELDS)
        manifest.writeheader()
        for frame, split in zip(frames, splits, strict=True):
            name = f"inc{frame.incident_id:06d}_{frame.sha256[:16]}"
            jpeg = session.get_one(Snapshot, frame.sha256).data
            (out / "images" / split / f"{name}.jpg").write_bytes(jpeg)
            lines = yolo_lines(frame.boxes)
            (out / "labels" / split / f"{name}.txt").write_text(
                "".join(f"{line}\n" for line in lines), encoding="utf-8"
            )
            counts[split] += 1
            manifest.writerow(
                {
                    "file": f"images/{split}/{name}.jpg",
                    "split": split,
                    "incident_id": frame.incident_id,
                    "verdict": frame.verdict,
                    "false_positive_type": frame.false_positive_type or "",
                    "camera": frame.camera,
                    "captured_at": frame.captured_at.isoformat(),
                    "alert_id": frame.alert_id,
                    "boxes": len(lines),
                    "sha256": frame.sha256,
                }
            )
    (out / "data.yaml").write_text(
        yaml.safe_dump(
            {
                "path": str(out.resolve()),
                "train": "images/train",
                "val": "images/val",
                "nc": len(CLASS_IDS),
                "names": {index: name for name, index in CLASS_IDS.items()},
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    positives = sum(frame.verdict == "smoke" for frame in frames)
    incidents = len({frame.incident_id for frame in frames})
    return ExportSummary(counts, positives, len(frames) - positives, incidents)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=date.fromisoformat,
        required=True,
        help="export incidents first seen on or after this day (YYYY-MM-DD, UTC)",
    )
    parser.add_argument("--out", type=Path, required=True, help="dataset folder (created)")
    parser.add_argument(
        "--db",
        default=None,
        help="SQLAlchemy URL of the central database (default: VIGIFEU_DATABASE_URL)",
    )


def run(args: argparse.Namespace) -> int:
    url = (
        args.db
        or os.environ.get("VIGIFEU_DATABASE_URL")
        or CentralSettings.model_fields["database_url"].default
    )
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            summary = export_labels(
                session, datetime.combine(args.since, time(0), tzinfo=UTC), args.out
            )
    finally:
        engine.dispose()
    print(  # noqa: T201 - command output
        f"{args.out}: {summary.images['train']} train + {summary.images['val']} val images "
        f"({summary.positives} smoke, {summary.negatives} hard negatives) "
        f"from {summary.incidents} incidents"
    )
    return 0 if summary.positives + summary.negatives else 1
