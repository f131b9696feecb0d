"""Fixtures of the edge integration tests: synthetic smoke clips, a model registry, site files,
an MQTT recorder with a persistent session, and an in-process edge worker.

The clips are 10 s loops at 5 fps, 640x480 H.264. A small red square crosses the dark frame all
the time (a live, never frozen picture the tiny model ignores: it is saturated); the smoke clip
adds a bright grey 160x160 patch from 2.0 s to 7.0 s, which the tiny model scores as smoke.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from contracts import ModelInfo, WireMessage, decode_message
from edge.config import EdgeConfig, parse_config
from edge.detect.onnx_detector import OnnxDetector
from edge.detect.registry import file_sha256
from edge.publish.broker import parse_broker_url
from edge.runtime.supervisor import Options, Supervisor

CLIP_FPS = 5
CLIP_FRAMES = 50  # 10 s
SMOKE_FRAMES = range(10, 35)  # 2.0 s to 7.0 s of each loop
# 2 x 2 cells of the tiny model's 80-px grid (640x480 letterboxed to 320: 40-px cells).
PATCH = (slice(160, 320), slice(240, 400))


def _render(path: Path, *, smoke: bool, moving: bool = True) -> Path:
    frames = path.parent / f"{path.stem}-frames"
    frames.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(6)
    background = (30 + rng.integers(0, 20, (480, 640, 3))).astype(np.uint8)
    for index in range(CLIP_FRAMES):
        image = background.copy()
        if moving:
            x = 10 + index * 11
            image[390:460, x : x + 70] = (20, 20, 200)  # BGR red, saturated
        if smoke and index in SMOKE_FRAMES:
            image[PATCH] = 235
        cv2.imwrite(str(frames / f"{index:03d}.png"), image)
    subprocess.run(
        [
            shutil.which("ffmpeg") or "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-framerate",
            str(CLIP_FPS),
            "-i",
            str(frames / "%03d.png"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            # Constant quantiser: identical pictures encode identically (rate control would
            # re-quantise them differently for the first seconds, a drift a real frozen camera
            # also shows but that makes the test's timing vague).
            "-qp",
            "23",
            "-g",
            str(CLIP_FPS),
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    shutil.rmtree(frames)
    return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """'smoke', 'clear' (same scene, no patch) and 'static' (one picture, 10 s)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    folder = tmp_path_factory.mktemp("clips")
    return {
        "smoke": _render(folder / "smoke.mp4", smoke=True),
        "clear": _render(folder / "clear.mp4", smoke=False),
        "static": _render(folder / "static.mp4", smoke=False, moving=False),
    }


@pytest.fixture(scope="session")
def registry(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model registry whose default is the tiny test detector."""
    folder = tmp_path_factory.mktemp("registry")
    shutil.copy(tiny_model, folder / "tiny.onnx")
    path = folder / "registry.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "default": "tiny",
                "models": [
                    {
                        "name": "tiny",
                        "version": "1",
                        "file": "tiny.onnx",
                        "sha256": file_sha256(folder / "tiny.onnx"),
                        "input_size": 320,
                        "classes": ["smoke", "fire"],
                        "thresholds": {"score": 0.5, "iou": 0.45},
                        "format": "onnx-fp32",
                        "training_data": "none: a brightness rule built in the tests",
                        "licence": "AGPL-3.0-or-later",
                    }
                ],
            }
        )
    )
    return path


@pytest.fixture(scope="session")
def tiny_detector(registry: Path) -> OnnxDetector:
    model = registry.parent / "tiny.onnx"
    info = ModelInfo(name="tiny", version="1", sha256=file_sha256(model))
    return OnnxDetector(model, model_info=info, threads=1, score_floor=0.2)


def camera_entry(camera_id: str, source: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A camera analysed every 0.2 s, confirming in 2 of 3 frames, fast updates and ends."""
    entry: dict[str, Any] = {
        "id": camera_id,
        "source": source,
        "heading_deg": 60,
        "hfov_deg": 87,
        "vfov_deg": 44,
        "cadence_s": 0.2,
        "frozen_after_s": 3,
        "thresholds": {
            "detection_score": 0.3,
            "window_frames": 3,
            "confirm_score": 1.0,
            "update_interval_s": 1.0,
            "end_after_s": 1.0,
        },
    }
    entry.update(overrides)
    return entry


def site_config(tmp_path: Path, registry: Path, cameras: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "site": {
            "id": "testsite",
            "latitude_deg": 43.7,
            "longitude_deg": 7.0,
            "ground_altitude_m": 800,
        },
        "detector": {"model": "default", "registry": str(registry), "threads": 1},
        "outbox": {"path": str(tmp_path / "outbox.sqlite3"), "max_alerts": 1000},
        "heartbeat_interval_s": 1,
        "cameras": cameras,
    }


def load(raw: dict[str, Any]) -> EdgeConfig:
    return parse_config(raw, "test-site.yaml", {})


@dataclass(frozen=True)
class Received:
    topic: str
    message: WireMessage
    at_s: float


class Recorder:
    """Subscribes to everything of contract v1 with a persistent session (QoS 1) and keeps it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Received] = []
        # One flag per connection: whether the broker still had this subscriber's session.
        self.sessions_present: list[bool] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"recorder-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(min_delay=1, max_delay=1)

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: mqtt.ConnectFlags, *_: Any
    ) -> None:
        self.sessions_present.append(flags.session_present)
        client.subscribe("vigifeu/v1/#", qos=1)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        _, decoded = decode_message(message.topic, message.payload)
        with self._lock:
            self.messages.append(Received(message.topic, decoded, time.monotonic()))

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 600  # the session outlives a broker restart
        self._client.connect("127.0.0.1", self.port, clean_start=False, properties=properties)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    def wait_for(
        self, predicate: Callable[[list[Received]], bool], timeout_s: float, what: str
    ) -> list[Received]:
        deadline_s = time.monotonic() + timeout_s
        while time.monotonic() < deadline_s:
            messages = self.snapshot()
            if predicate(messages):
                return messages
            time.sleep(0.1)
        summary = json.dumps([r.topic for r in self.snapshot()][-20:])
        raise AssertionError(f"not within {timeout_s} s: {what}; last topics: {summary}")


@pytest.fixture
def recorder_factory() -> Iterator[Callable[[int], Recorder]]:
    recorders: list[Recorder] = []

    def make(port: int) -> Recorder:
        recorder = Recorder(port)
        recorder.start()
        recorders.append(recorder)
        return recorder

    yield make
    for recorder in recorders:
        recorder.stop()


class RunningEdge:
    """A Supervisor in a thread of the test process (faster than a subprocess to start)."""

    def __init__(
        self,
        config: EdgeConfig,
        detector: OnnxDetector,
        mqtt_url: str,
        metrics_port: int | None = None,
    ) -> None:
        options = Options(broker=parse_broker_url(mqtt_url, None, None), metrics_port=metrics_port)
        self.supervisor = Supervisor(config, detector, options)
        self.exit_code: int | None = None
        self._thread = threading.Thread(target=self._run, name="edge-under-test")

    def _run(self) -> None:
        self.exit_code = self.supervisor.run()

    def __enter__(self) -> RunningEdge:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.supervisor.stop.set()
        self._thread.join(30)
        assert not self._thread.is_alive(), "the edge worker did not stop within 30 s"


@contextlib.contextmanager
def running_edge(
    config: EdgeConfig, detector: OnnxDetector, mqtt_url: str, metrics_port: int | None = None
) -> Iterator[RunningEdge]:
    with RunningEdge(config, detector, mqtt_url, metrics_port) as edge:
        yield edge
    assert edge.exit_code == 0
