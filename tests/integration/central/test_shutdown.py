"""``vigifeu central`` stops promptly and cleanly even while a console's live stream is open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from central.main import GRACEFUL_SHUTDOWN_S
from tests.support.services import Mosquitto, free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ADMIN, PASSWORD = "admin", "secret-pass-123"


def test_sigterm_with_a_live_stream_open_stops_ingest_cleanly_within_seconds(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    port = free_port()
    log = (tmp_path / "central.log").open("wb")
    env = {**os.environ, "VIGIFEU_ENVIRONMENT": "dev", "VIGIFEU_ADMIN_USERNAME": ADMIN}
    env["VIGIFEU_ADMIN_PASSWORD"] = PASSWORD
    command = [sys.executable, "-m", "vigifeu.cli", "central", "--db",
               f"sqlite:///{tmp_path / 'central.db'}", "--mqtt", mosquitto.url,
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _health(base), timeout_s=60, what="central's health endpoint")
        client = httpx.Client(base_url=base, timeout=10)
        client.post("/login", data={"username": ADMIN, "password": PASSWORD})
        opened = threading.Event()

        def listen() -> None:
            try:
                with client.stream("GET", "/events", timeout=None) as stream:
                    for _ in stream.iter_lines():
                        opened.set()
            except httpx.HTTPError:
                pass  # the server closed the stream on its way down

        threading.Thread(target=listen, daemon=True).start()
        assert opened.wait(10), "the live stream did not open"
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=GRACEFUL_SHUTDOWN_S + 20)
        assert time.monotonic() - started < GRACEFUL_SHUTDOWN_S + 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    output = (tmp_path / "central.log").read_text(errors="replace")
    assert "ingest stopped; unacknowledged messages stay queued" in output


def _health(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False
