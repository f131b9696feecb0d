"""Central down for 30 s while the edge keeps publishing: no alert is lost.

The broker keeps central's persistent session and queues its share of the messages; messages
delivered but not yet committed when central died were never acknowledged, so they come again.
Central runs as the real ``vigifeu central`` process and is killed with SIGKILL (a crash, not a
clean stop) while alerts are arriving.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.ingest import central_health
from tests.integration.central.conftest import Publisher
from tests.support.services import Mosquitto, free_port, wait_for_port
from tests.support.waiting import wait_until
from tests.unit.central.builders import CABANELLE, alert, box, later

pytestmark = pytest.mark.integration

OUTAGE_S = 30.0
PUBLISH_EVERY_S = 0.1


class CentralProcess:
    def __init__(self, database: Path, mosquitto: Mosquitto, log: Path) -> None:
        self.port = free_port()
        self.command = [
            sys.executable,
            "-m",
            "vigifeu.cli",
            "central",
            "--db",
            f"sqlite:///{database}",
            "--mqtt",
            mosquitto.url,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--instance-id",
            "central-outage",
        ]
        self.env = {**os.environ, "VIGIFEU_SECRET_KEY": "outage-test-secret-key-0123456789"}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        wait_for_port(self.port, 60, self.process)
        wait_until(lambda: central_health(self.port)["mqtt_connected"], what="ingest connected")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        assert self.process is not None
        self.process.terminate()
        return self.process.wait(timeout=30)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
            return json.load(response)


@pytest.fixture
def central(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[CentralProcess]:
    process = CentralProcess(tmp_path / "central.sqlite3", mosquitto, tmp_path / "central.log")
    yield process
    if process.process is not None and process.process.poll() is None:
        process.process.kill()
        process.process.wait(timeout=10)


def test_no_alert_is_lost_while_central_is_down(
    central: CentralProcess, publisher: Publisher
) -> None:
    sent: list[str] = []
    stop = threading.Event()

    def edge() -> None:
        event_id, step = uuid.uuid4(), 0
        while not stop.is_set():
            message = alert(
                CABANELLE,
                azimuth_deg=240.0,
                event_id=event_id,
                sequence=step,
                captured_at=later(len(sent)),
                boxes=[box(0.4 + (step % 20) / 100)],
            )
            publisher.send(message)
            sent.append(str(message.alert_id))
            event_id, step = (uuid.uuid4(), 0) if step == 9 else (event_id, step + 1)
            time.sleep(PUBLISH_EVERY_S)

    central.start()
    publishing = threading.Thread(target=edge, daemon=True)
    publishing.start()
    try:
        wait_until(lambda: central.get("/api/v1/metrics")["totals"]["alerts"] >= 10, what="ingest")
        central.kill()  # mid-stream: some messages were delivered but not committed
        killed_at = len(sent)
        time.sleep(OUTAGE_S)
        assert len(sent) > killed_at + 100  # the edge kept publishing through the outage
        central.start()
        time.sleep(2.0)
    finally:
        stop.set()
        publishing.join(10)
    wait_until(
        lambda: central.get("/api/v1/metrics")["totals"]["alerts"] >= len(sent),
        timeout_s=60,
        what=f"all {len(sent)} alerts",
    )
    stored = set()
    offset = 0
    while True:
        page = central.get(f"/api/v1/alerts?limit=500&offset={offset}")
        stored |= {item["alert_id"] for item in page["items"]}
        offset += 500
        if offset >= page["total"]:
            break
    assert stored == set(sent)
    assert central.get("/api/v1/metrics")["totals"]["quarantined"] == 0
    # SIGTERM: a clean stop (uvicorn ends the process by the signal after the shutdown)
    assert central.stop() in (0, -signal.SIGTERM)
    assert "ingest stopped" in central.log.read_text()
