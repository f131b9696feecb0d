"""``vigifeu bench video``: footage through cadence, masks, confirmation and alert building."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from contracts import AlertMessage, EventState
from tests.unit.benchmarks.synthetic import Patch, frame_with, patch_box
from vigifeu.cli import main

PLUME = Patch(3, 3, 240)


def write_clip(path: Path, frames: int = 10, plume_from: int = 3) -> Path:
    """One frame per second, a plume from frame ``plume_from`` on."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 1.0, (640, 480))
    for index in range(frames):
        writer.write(frame_with([PLUME] if index >= plume_from else [], index))
    writer.release()
    return path


def write_site(path: Path, video: Path) -> Path:
    x_min, y_min, x_max, y_max = patch_box(PLUME)
    mask = [[x_min, y_min], [x_max, y_min], [x_max, y_max], [x_min, y_max]]
    camera = {
        "source": {"kind": "video", "path": str(video)},
        "heading_deg": 120.0,
        "hfov_deg": 60.0,
        "vfov_deg": 45.0,
        "cadence_s": 2.0,
    }
    site = {
        "site": {
            "id": "test",
            "latitude_deg": 43.7,
            "longitude_deg": 7.1,
            "ground_altitude_m": 500,
        },
        "cameras": [
            {"id": "open", **camera},
            {"id": "masked", **camera, "masks": [{"name": "chimney", "polygon": mask}]},
        ],
    }
    path.write_text(json.dumps(site))  # JSON is YAML
    return path


@pytest.fixture
def clip_and_site(tmp_path: Path) -> tuple[Path, Path]:
    video = write_clip(tmp_path / "clip.mp4")
    return video, write_site(tmp_path / "site.yaml", video)


def run_bench(video: Path, site: Path, model: Path, out: Path, camera: str) -> int:
    argv = ["bench", "video", "--video", str(video), "--camera-config", str(site)]
    return main([*argv, "--camera", camera, "--model", str(model), "--out", str(out)])


def test_the_edge_pipeline_alerts_once_the_plume_is_confirmed(
    clip_and_site: tuple[Path, Path], tiny_model: Path, tmp_path: Path
) -> None:
    video, site = clip_and_site
    out = tmp_path / "out"
    assert run_bench(video, site, tiny_model, out, "open") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    # Cadence 2 s on a 1 fps clip: frames 0, 2, 4, 6, 8. The plume (from frame 3) is on frames
    # 4, 6 and 8 and is confirmed on the second of them (2 of a 4-frame window).
    timeline = [json.loads(line) for line in (out / "timeline.jsonl").read_text().splitlines()]
    assert [row["frame"] for row in timeline] == [0, 2, 4, 6, 8]
    assert [bool(row["kept"]) for row in timeline] == [False, False, True, True, True]
    assert metrics["alerts"] == {"start": 1, "update": 0, "end": 0}
    assert metrics["first_alert_s"] == 6.0
    assert metrics["open_at_end"] == 1
    (line,) = (out / "alerts.jsonl").read_text().splitlines()
    alert = AlertMessage.model_validate_json(line)
    assert (alert.state, alert.camera_id, alert.site_id) == (EventState.START, "open", "test")
    assert alert.captured_at.isoformat() == "2000-01-01T00:00:06+00:00"
    assert len(alert.snapshots) == 2
    (annotated,) = out.glob("alert_*.jpg")
    assert annotated.name == "alert_000_start_frame6.jpg"
    assert cv2.imread(str(annotated)) is not None
    assert cv2.imread(str(out / "timeline.png")) is not None

    again = tmp_path / "again"
    assert run_bench(video, site, tiny_model, again, "open") == 0
    assert (again / "alerts.jsonl").read_text() == (out / "alerts.jsonl").read_text()


def test_masks_and_time_scale_apply(
    clip_and_site: tuple[Path, Path], tiny_model: Path, tmp_path: Path
) -> None:
    video, site = clip_and_site
    out = tmp_path / "masked"
    assert run_bench(video, site, tiny_model, out, "masked") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames_with_detection"] == 0
    assert metrics["alerts"] == {"start": 0, "update": 0, "end": 0}

    scaled = tmp_path / "scaled"
    argv = ["bench", "video", "--video", str(video), "--camera-config", str(site)]
    argv += ["--model", str(tiny_model), "--time-scale", "0.5", "--out", str(scaled)]
    assert main(argv) == 0  # 0.5 s between frames: one frame in four is due
    rows = (scaled / "timeline.jsonl").read_text().splitlines()
    assert [json.loads(row)["frame"] for row in rows] == [0, 4, 8]


def test_an_unknown_camera_is_an_input_error(
    clip_and_site: tuple[Path, Path], tiny_model: Path, tmp_path: Path
) -> None:
    video, site = clip_and_site
    assert run_bench(video, site, tiny_model, tmp_path / "out", "nope") == 2
