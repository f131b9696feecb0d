"""``vigifeu bench sequences``: replayed timelines with a known time to detection."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import cv2
import pytest

from benchmarks.sequences import (
    SequenceFileError,
    bench_camera,
    read_timelines,
    run_sequences,
)
from edge.config import Thresholds
from edge.detect.scripted import ScriptedDetector
from edge.messages import Detection, DetectionClass
from tests.unit.benchmarks.synthetic import START_UNIX, TIMELINES, frame_with, write_sequences
from vigifeu.cli import main


def test_replay_gives_the_known_ttd_and_false_alarms(tiny_model: Path, tmp_path: Path) -> None:
    sequences = write_sequences(tmp_path / "data")
    out = tmp_path / "out"
    argv = ["bench", "sequences", "--sequences", str(sequences), "--model", str(tiny_model)]
    assert main([*argv, "--frame-interval-s", "30", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    by_id = {s["id"]: s for s in metrics["sequences"]}
    assert {key: (s["ttd_s"], s["false_alarms"]) for key, s in by_id.items()} == {
        "a_fire": (120.0, 0),
        "b_cloud": (None, 1),
        "c_dim": (None, 0),
        "d_untimed": (30.0, 0),
    }
    assert by_id["a_fire"]["first_alert_frame"] == 5
    assert (metrics["detected"], metrics["total"], metrics["false_alarms"]) == (2, 4, 1)
    assert metrics["with_smoke"] == 3
    assert metrics["mean_ttd_s"] == 75.0
    assert metrics["thresholds"]["window_frames"] == 4
    for sequence_id in TIMELINES:
        assert cv2.imread(str(out / f"timeline_{sequence_id}.png")) is not None
    assert "| a_fire | 8 | 5 | 120 | 5 | 0 | no |" in (out / "report.md").read_text()


def test_thresholds_can_be_overridden(tiny_model: Path, tmp_path: Path) -> None:
    sequences = write_sequences(tmp_path / "data")
    out = tmp_path / "out"
    argv = ["bench", "sequences", "--sequences", str(sequences), "--model", str(tiny_model)]
    # A window of 6 needs 3 frames: the 2-frame cloud no longer alarms, the fire waits a frame.
    assert main([*argv, "--window-frames", "6", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    by_id = {s["id"]: s for s in metrics["sequences"]}
    assert (by_id["a_fire"]["ttd_s"], by_id["b_cloud"]["false_alarms"]) == (180.0, 0)


def test_an_event_open_at_onset_is_not_a_detection(tmp_path: Path) -> None:
    """A false alarm that is still open when the fire starts does not count as detecting it."""
    rows = ["sequence_id,frame_index,file,unix_time,smoke_expected"]
    for index in range(6):
        cv2.imwrite(str(tmp_path / f"{index}.jpg"), frame_with([], index))
        rows.append(f"s,{index},{index}.jpg,{START_UNIX + 60 * index},{int(index >= 3)}")
    (tmp_path / "sequences.csv").write_text("\n".join(rows) + "\n")
    box = Detection(0.4, 0.4, 0.5, 0.5, 0.9, DetectionClass.SMOKE)
    detector = ScriptedDetector({index: [box] for index in range(6)})
    timelines = read_timelines(tmp_path / "sequences.csv", 60.0)
    assert timelines[0].frames[0].captured_at == datetime.fromtimestamp(START_UNIX, UTC)
    metrics, outcomes = run_sequences(timelines, detector, bench_camera(Thresholds()))
    (result,) = metrics["sequences"]
    assert (result["ttd_s"], result["false_alarms"], result["open_at_onset"]) == (None, 1, True)
    assert [o.max_scores for o in outcomes["s"]] == [{"smoke": 0.9}] * 6


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sequence_id,file\ns,a.jpg\n", "missing columns"),
        ("sequence_id,frame_index,file,smoke_expected\ns,0,absent.jpg,0\n", r":2: frame file"),
        ("sequence_id,frame_index,file,smoke_expected\ns,x,a.jpg,0\n", ":2:"),
    ],
)
def test_bad_sequence_files(tmp_path: Path, content: str, message: str) -> None:
    cv2.imwrite(str(tmp_path / "a.jpg"), frame_with([]))
    (tmp_path / "sequences.csv").write_text(content)
    with pytest.raises(SequenceFileError, match=message):
        read_timelines(tmp_path / "sequences.csv", 60.0)
