"""``vigifeu bench video``: recorded footage through the whole edge pipeline, offline.

The clip is read with the edge's own ``VideoFileSource``; frames are analysed at the camera's
cadence (the worker's rule: the next frame due ``cadence_s`` after the last, no catching up),
then detector -> filters (masks, width, floor) -> confirmation -> wire alerts (``build_alert``).
Time is the clip's own: frame k is captured at ``start_at + k x frame interval x time_scale``
(``time_scale`` > 1 for time-lapse clips, e.g. 60 for one frame a minute played at 1 fps), so the
output does not depend on how fast this machine replays it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2

from benchmarks.frames import make_frame
from benchmarks.replay import ReplayPipeline
from benchmarks.report import fmt, markdown_table, plot_score_timeline, write_json
from contracts import AlertMessage, EventState, ModelInfo
from edge.alerts.builder import build_alert
from edge.config import Camera, EdgeConfig, Site
from edge.detect import Detector
from edge.ingest.sources import Grab, SourceError, VideoFileSource
from edge.messages import Detection, Frame

logger = logging.getLogger(__name__)

RED, ORANGE = (40, 40, 220), (0, 140, 255)  # BGR: confirmed alert boxes, other kept detections


class VideoBenchError(RuntimeError):
    """The clip cannot be read."""


class PlaceholderEnvironment(Mapping[str, str]):
    """Resolves every ``${NAME}`` of a camera file: the replay never opens the real camera."""

    def __getitem__(self, key: str) -> str:
        return "bench"

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def camera_of(config: EdgeConfig, camera_id: str | None) -> Camera:
    if camera_id is None:
        return config.cameras[0]
    for camera in config.cameras:
        if camera.id == camera_id:
            return camera
    known = ", ".join(camera.id for camera in config.cameras)
    raise VideoBenchError(f"no camera {camera_id!r} in the configuration (known: {known})")


def due_frames(
    video: Path, camera_id: str, cadence_s: float, start_at: datetime, time_scale: float
) -> Iterator[tuple[Frame, float]]:
    """The frames the edge would analyse, with their clip time in seconds."""
    source = VideoFileSource(video, loop=False)
    try:
        source.open()
    except SourceError as error:
        raise VideoBenchError(str(error)) from None
    interval_s = (source.frame_interval_s or 0.0) * time_scale
    next_due_s, index = 0.0, -1
    try:
        while (grabbed := source.grab()) is Grab.FRAME:
            index += 1
            now_s = index * interval_s
            if now_s < next_due_s:
                continue
            image = source.retrieve()
            if image is None:  # a corrupt frame: the reader counts it and waits for the next
                logger.warning("%s: frame %d does not decode, skipped", video, index)
                continue
            next_due_s += cadence_s
            if next_due_s <= now_s:
                next_due_s = now_s + cadence_s
            yield make_frame(image, index, start_at + timedelta(seconds=now_s), camera_id), now_s
        if grabbed is Grab.LOST:
            logger.warning("%s: read failed after frame %d; the rest is ignored", video, index)
    finally:
        source.close()


def _detection(d: Detection) -> dict[str, Any]:
    return {
        "class": d.detection_class.value,
        "score": d.score,
        "box": [d.x_min, d.y_min, d.x_max, d.y_max],
    }


@dataclass
class VideoRun:
    timeline: list[dict[str, Any]]
    alerts: list[AlertMessage]
    annotated: dict[str, bytes]  # file name -> JPEG of each alert's frame, boxes drawn


def annotate(frame: Frame, kept: tuple[Detection, ...], alert: AlertMessage) -> Any:
    image = frame.image.copy()
    height, width = image.shape[:2]
    confirmed = [(b.x_min, b.y_min, b.x_max, b.y_max) for b in alert.boxes]
    for d in kept:
        box = (d.x_min, d.y_min, d.x_max, d.y_max)
        colour, thickness = (RED, 3) if box in confirmed else (ORANGE, 1)
        top_left = (round(box[0] * width), round(box[1] * height))
        cv2.rectangle(
            image, top_left, (round(box[2] * width), round(box[3] * height)), colour, thickness
        )
        cv2.putText(
            image,
            f"{d.detection_class.value} {d.score:.2f}",
            (top_left[0], max(12, top_left[1] - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            colour,
            1,
        )
    label = f"{alert.state.value} #{alert.sequence} {alert.captured_at:%H:%M:%S} score {alert.score:.2f}"
    cv2.putText(image, label, (8, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, RED, 2)
    return image


def run_video(
    frames: Iterator[tuple[Frame, float]],
    detector: Detector,
    *,
    site: Site,
    camera: Camera,
    model: ModelInfo,
    replay_name: str,
) -> VideoRun:
    pipeline = ReplayPipeline(camera, replay_name)
    run = VideoRun([], [], {})
    for frame, clip_s in frames:
        found = detector.detect([frame])[0]
        step = pipeline.step(found)
        alerts = [
            build_alert(t, site=site, camera=camera, pose=pipeline.pose(t.pose_id), model=model)
            for t in step.transitions
        ]
        for alert in alerts:
            if alert.state is not EventState.END:
                name = f"alert_{len(run.alerts):03d}_{alert.state.value}_frame{frame.sequence}.jpg"
                image = annotate(frame, step.kept.detections, alert)
                ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
                if ok:
                    run.annotated[name] = jpeg.tobytes()
            run.alerts.append(alert)
        run.timeline.append(
            {
                "frame": frame.sequence,
                "clip_s": clip_s,
                "captured_at": frame.captured_at.isoformat(),
                "detections": [_detection(d) for d in found.detections],
                "kept": [_detection(d) for d in step.kept.detections],
                "alerts": [f"{a.state.value}:{a.event_id}:{a.sequence}" for a in alerts],
            }
        )
    return run


def summary(run: VideoRun, model: ModelInfo, camera: Camera, video: Path) -> dict[str, Any]:
    states = [alert.state.value for alert in run.alerts]
    return {
        "video": str(video),
        "camera": camera.id,
        "cadence_s": camera.cadence_s,
        "frames_analysed": len(run.timeline),
        "frames_with_detection": sum(1 for row in run.timeline if row["kept"]),
        "alerts": {state.value: states.count(state.value) for state in EventState},
        "events": len({alert.event_id for alert in run.alerts}),
        # Not ended by the replay: live, the edge ends them once the camera is blind for
        # end_after_s, or at shutdown.
        "open_at_end": states.count(EventState.START.value) - states.count(EventState.END.value),
        "first_alert_s": next((row["clip_s"] for row in run.timeline if row["alerts"]), None),
        "model": {"name": model.name, "sha256": model.sha256},
    }


def write_run(run: VideoRun, out: Path) -> None:
    """timeline.jsonl, alerts.jsonl (the wire messages) and the annotated alert frames."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "timeline.jsonl").open("w", encoding="utf-8") as stream:
        for row in run.timeline:
            stream.write(json.dumps(row) + "\n")
    with (out / "alerts.jsonl").open("w", encoding="utf-8") as stream:
        for alert in run.alerts:
            stream.write(alert.model_dump_json() + "\n")
    for name, jpeg in run.annotated.items():
        (out / name).write_bytes(jpeg)


def plot_run(run: VideoRun, camera: Camera, path: Path) -> None:
    minutes = [row["clip_s"] / 60 for row in run.timeline]
    scores = {
        name: [
            max((d["score"] for d in row["detections"] if d["class"] == name), default=0.0)
            for row in run.timeline
        ]
        for name in ("smoke", "fire")
    }
    transitions = [
        (minute, alert.split(":", 1)[0])
        for minute, row in zip(minutes, run.timeline, strict=True)
        for alert in row["alerts"]
    ]
    plot_score_timeline(
        minutes,
        scores,
        transitions,
        floor=camera.thresholds.detection_score,
        title=f"camera {camera.id}: best score per analysed frame",
        xlabel="minutes of footage (x time scale)",
        path=path,
    )


def report_markdown(metrics: dict[str, Any], run: VideoRun, command: str) -> str:
    rows = [
        [
            alert.state.value,
            str(alert.event_id)[:8],
            alert.sequence,
            alert.captured_at.isoformat(),
            alert.score,
            len(alert.boxes),
        ]
        for alert in run.alerts
    ]
    frames = [f"![{name}]({name})" for name in run.annotated]
    return "\n".join(
        [
            f"# Video replay: {metrics['video']}",
            "",
            f"Command: `{command}`",
            "",
            f"Camera `{metrics['camera']}`, one frame every {metrics['cadence_s']:g} s: "
            f"{metrics['frames_analysed']} frames analysed, {metrics['frames_with_detection']} with "
            f"a detection after the filters, {metrics['events']} events, first alert at "
            f"{fmt(metrics['first_alert_s'], 0)} s of footage, {metrics['open_at_end']} still open "
            f"when the footage ends. Model {metrics['model']['name']}.",
            "",
            markdown_table(["state", "event", "step", "captured at", "score", "boxes"], rows),
            "",
            "Files: `timeline.jsonl` (every analysed frame: raw and kept detections, alerts), "
            "`alerts.jsonl` (the wire messages the edge would have queued), annotated alert frames.",
            "",
            "![timeline](timeline.png)",
            *frames,
            "",
        ]
    )


def write_outputs(
    metrics: dict[str, Any], run: VideoRun, camera: Camera, out: Path, command: str
) -> None:
    write_run(run, out)
    write_json(out / "metrics.json", metrics)
    plot_run(run, camera, out / "timeline.png")
    (out / "report.md").write_text(report_markdown(metrics, run, command), encoding="utf-8")
