"""The whole chain on real components: RTSP camera -> edge -> Mosquitto -> central -> DB -> API.

Uses the shipped default model on the bundled real ignition clip, so it also checks that the model
sees that smoke through the exact edge code path.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.services import REPO_ROOT, Mosquitto, RtspCamera, free_port, wait_for_port
from vigifeu.demo import demo_site_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REGISTRY = REPO_ROOT / "models" / "registry.yaml"
VIGIFEU = [sys.executable, "-m", "vigifeu.cli"]


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def incidents_of(body: Any) -> list[dict[str, Any]]:
    return list(body["items"] if isinstance(body, dict) else body)


@pytest.fixture
def central(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "VIGIFEU_SECRET_KEY": "test-secret-key-for-end-to-end-tests"}
    with (tmp_path / "central.log").open("wb") as log:
        process = subprocess.Popen(
            [
                *VIGIFEU,
                "central",
                "--db",
                f"sqlite:///{tmp_path / 'central.sqlite3'}",
                "--mqtt",
                mosquitto.url,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_for_port(port, 60, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.skipif(not REGISTRY.exists(), reason="no shipped model registry yet")
def test_recorded_smoke_becomes_an_incident_readable_over_the_api(
    tmp_path: Path, mosquitto: Mosquitto, rtsp_camera: RtspCamera, central: str
) -> None:
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(demo_site_config(rtsp_camera.url, tmp_path)))
    with (tmp_path / "edge.log").open("wb") as log:
        edge = subprocess.Popen(
            [*VIGIFEU, "edge", "--config", str(site_file), "--mqtt", mosquitto.url],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        incidents: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not incidents:
            assert edge.poll() is None, (tmp_path / "edge.log").read_text()[-3000:]
            incidents = incidents_of(get_json(f"{central}/api/v1/incidents"))
            time.sleep(1)
    finally:
        edge.terminate()
        edge.wait(timeout=20)
    assert incidents, "no incident within 120 s:\n" + (tmp_path / "edge.log").read_text()[-3000:]
    detail = get_json(f"{central}/api/v1/incidents/{incidents[0]['id']}")
    cameras = {alert["camera_id"] for alert in detail["alerts"]}
    assert cameras == {"cam-250"}


@pytest.mark.skipif(not REGISTRY.exists(), reason="no shipped model registry yet")
def test_demo_shows_an_incident_within_60_s(tmp_path: Path) -> None:
    port = free_port()
    with (tmp_path / "demo.log").open("wb") as log:
        demo = subprocess.Popen(
            [
                *VIGIFEU,
                "demo",
                "--port",
                str(port),
                "--workdir",
                str(tmp_path / "demo"),
                "--duration-s",
                "150",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    started = time.monotonic()
    try:
        incidents: list[dict[str, Any]] = []
        while time.monotonic() - started < 60 and not incidents:
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            with contextlib.suppress(OSError):  # central still starting
                incidents = incidents_of(get_json(f"http://127.0.0.1:{port}/api/v1/incidents"))
            time.sleep(1)
        elapsed_s = time.monotonic() - started
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    assert incidents, f"no incident after {elapsed_s:.0f} s"
    assert demo.returncode == 0  # Ctrl-C/SIGTERM stops everything cleanly
