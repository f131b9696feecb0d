"""``vigifeu bench sequences``: time to detection and false alarms on replayed frame timelines.

A timeline is the rows of ``sequences.csv`` (columns ``sequence_id, camera, frame_index, file,
unix_time, smoke_expected``; others ignored) sharing a ``sequence_id``, in ``frame_index`` order.
Each frame runs through the edge detector, filters and temporal confirmation (``ReplayPipeline``),
timed by ``unix_time`` (or ``frame_index x frame_interval_s`` where a timeline has none).

* ``ttd_s``: from the first frame with ``smoke_expected=1`` to the first ``start`` raised on a
  frame with ``smoke_expected=1``; null when none is raised. An event opened earlier (a false
  alarm still open at onset) does not count as a detection; ``open_at_onset`` flags that case.
* ``false_alarms``: ``start`` transitions raised on frames with ``smoke_expected=0``.
"""

from __future__ import annotations

import csv
import logging
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.frames import DATASET_EPOCH, make_frame, read_image, with_progress
from benchmarks.replay import ReplayPipeline
from contracts import EventState
from edge.config import Camera, Thresholds
from edge.detect import Detector
from edge.events.confirmation import EventTransition

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("sequence_id", "frame_index", "file", "smoke_expected")
DEFAULT_FRAME_INTERVAL_S = 60.0  # lookout timelines (FIgLib, HPWREN) hold one frame a minute


class SequenceFileError(ValueError):
    """A sequences.csv that cannot be replayed; the message names the file and row."""


@dataclass(frozen=True, slots=True)
class TimelineFrame:
    index: int
    path: Path
    captured_at: datetime
    smoke_expected: bool


@dataclass(frozen=True, slots=True)
class Timeline:
    sequence_id: str
    camera: str
    frames: tuple[TimelineFrame, ...]


@dataclass(frozen=True, slots=True)
class FrameOutcome:
    frame: TimelineFrame
    max_scores: dict[str, float]  # best raw detector score per class (0 when none)
    transitions: tuple[EventTransition, ...]


def _resolve(csv_path: Path, file: str, row: int) -> Path:
    """Frame paths are relative to the CSV's folder, or to its parent (the dataset root)."""
    for base in (csv_path.parent, csv_path.parent.parent):
        if (base / file).is_file():
            return base / file
    raise SequenceFileError(f"{csv_path}:{row}: frame file {file!r} not found")


def read_timelines(csv_path: Path, frame_interval_s: float) -> list[Timeline]:
    try:
        with csv_path.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
    except OSError as error:
        raise SequenceFileError(f"{csv_path}: cannot read: {error.strerror}") from None
    missing = [c for c in REQUIRED_COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise SequenceFileError(f"{csv_path}: no rows, or missing columns {missing}")
    # sequence id -> (frame index, unix time or None, expected, path), camera name
    grouped: dict[str, list[tuple[int, float | None, bool, Path]]] = defaultdict(list)
    cameras: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        try:
            unix = (row.get("unix_time") or "").strip()
            index, expected = int(row["frame_index"]), int(row["smoke_expected"]) == 1
            at = float(unix) if unix else None
        except ValueError as error:
            raise SequenceFileError(f"{csv_path}:{number}: {error}") from None
        grouped[row["sequence_id"]].append(
            (index, at, expected, _resolve(csv_path, row["file"], number))
        )
        cameras.setdefault(row["sequence_id"], (row.get("camera") or row["sequence_id"]).strip())
    timelines = []
    for sequence_id, members in grouped.items():
        members.sort(key=lambda member: member[0])
        timed = all(unix is not None for _, unix, _, _ in members)
        frames = tuple(
            TimelineFrame(
                index,
                path,
                datetime.fromtimestamp(unix, UTC)
                if timed and unix is not None
                else DATASET_EPOCH + timedelta(seconds=index * frame_interval_s),
                expected,
            )
            for index, unix, expected, path in members
        )
        timelines.append(Timeline(sequence_id, cameras[sequence_id], frames))
    return sorted(timelines, key=lambda timeline: timeline.sequence_id)


def replay(timeline: Timeline, detector: Detector, camera: Camera) -> Iterator[FrameOutcome]:
    pipeline = ReplayPipeline(camera, timeline.sequence_id)
    for item in timeline.frames:
        frame = make_frame(read_image(item.path), item.index, item.captured_at, camera.id)
        found = detector.detect([frame])[0]
        scores: dict[str, float] = {}
        for detection in found.detections:
            name = detection.detection_class.value
            scores[name] = max(scores.get(name, 0.0), detection.score)
        yield FrameOutcome(item, scores, pipeline.step(found).transitions)


def sequence_result(timeline: Timeline, outcomes: list[FrameOutcome]) -> dict[str, Any]:
    onset = next((o.frame for o in outcomes if o.frame.smoke_expected), None)
    starts = [(o.frame, t) for o in outcomes for t in o.transitions if t.state is EventState.START]
    detection = next((frame for frame, _ in starts if frame.smoke_expected), None)
    ttd_s = (
        (detection.captured_at - onset.captured_at).total_seconds()
        if onset is not None and detection is not None
        else None
    )
    open_events = 0
    for outcome in outcomes:
        if outcome.frame is onset:
            break
        for transition in outcome.transitions:
            open_events += {EventState.START: 1, EventState.END: -1}.get(transition.state, 0)
    return {
        "id": timeline.sequence_id,
        "ttd_s": ttd_s,
        "false_alarms": sum(1 for frame, _ in starts if not frame.smoke_expected),
        "frames": len(outcomes),
        "positive_frames": sum(1 for o in outcomes if o.frame.smoke_expected),
        "first_alert_frame": detection.index if detection else None,
        "open_at_onset": onset is not None and open_events > 0,
    }


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    delays = [r["ttd_s"] for r in results if r["ttd_s"] is not None]
    return {
        "sequences": results,
        "detected": len(delays),
        "total": len(results),
        "with_smoke": sum(1 for r in results if r["positive_frames"]),
        "false_alarms": sum(r["false_alarms"] for r in results),
        "mean_ttd_s": statistics.fmean(delays) if delays else None,
        "median_ttd_s": statistics.median(delays) if delays else None,
    }


def run_sequences(
    timelines: list[Timeline], detector: Detector, camera: Camera
) -> tuple[dict[str, Any], dict[str, list[FrameOutcome]]]:
    """The ``metrics.json`` document (without model/thresholds) and each timeline's outcomes."""
    outcomes: dict[str, list[FrameOutcome]] = {}
    results = []
    for timeline in timelines:
        label = f"sequence {timeline.sequence_id}"
        outcomes[timeline.sequence_id] = list(
            with_progress(replay(timeline, detector, camera), len(timeline.frames), label)
        )
        results.append(sequence_result(timeline, outcomes[timeline.sequence_id]))
    return summarise(results), outcomes


def bench_camera(thresholds: Thresholds, camera: Camera | None = None) -> Camera:
    """The configured camera with ``thresholds``, or a plain one without masks."""
    if camera is not None:
        return camera.model_copy(update={"thresholds": thresholds})
    return Camera.model_validate(
        {
            "id": "bench",
            "source": {"kind": "images", "path": "."},
            "heading_deg": 0.0,
            "hfov_deg": 60.0,
            "vfov_deg": 45.0,
            "thresholds": thresholds.model_dump(),
        }
    )
