"""Central with the console plugin under uvicorn, real Mosquitto, a local webhook receiver and a
local SMTP server (aiosmtpd), and one headless Chromium (Debian's, driven by Playwright) per
module. Everything listens on free loopback ports; nothing leaves the machine.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from central.app import create_app
from central.console.plugin import ConsolePlugin
from central.console.settings import ConsoleSettings
from central.db import make_engine, make_session_factory
from central.settings import CentralSettings
from tests.support.services import REPO_ROOT, Mosquitto, free_port, wait_for_port
from tests.support.waiting import wait_until

CHROMIUM = Path("/usr/bin/chromium")
ADMIN = ("chef-de-salle", "mot-de-passe-de-test")
ESCALATION_AFTER_S = 4.0
# Waits for what the page shows once a request or a push has been handled. Generous: on a shared
# 2-core machine under a training job an action's round trip has taken over 5 s (Playwright's
# default). Requirements with a deadline (the 2 s live push) pass their own timeout.
EXPECT_TIMEOUT_MS = 15_000
SCREENSHOTS = REPO_ROOT / "runs" / "screenshots" / "console"


@dataclass
class WebhookReceiver:
    """A dispatch centre's HTTP endpoint: records every POST and answers 200."""

    port: int = field(default_factory=free_port)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def json_for(self, incident_id: int, purpose: str = "dispatch") -> list[dict[str, Any]]:
        with self.lock:
            documents = [json.loads(body) for path, _, body in self.requests if path == "/codis"]
        return [d for d in documents if d["incident_id"] == incident_id and d["purpose"] == purpose]

    def cap_for(self, incident_id: int) -> list[bytes]:
        marker = f"vigifeu-incident-{incident_id}-dispatch".encode()
        with self.lock:
            return [body for path, _, body in self.requests if path == "/cap" and marker in body]


class SmtpSink:
    """A local SMTP server (aiosmtpd) that keeps every message it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.messages: list[EmailMessage] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                sink.messages.append(parsed)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def for_incident(self, incident_id: int, subject_part: str) -> list[EmailMessage]:
        return [
            m
            for m in list(self.messages)
            if m["X-Vigifeu-Incident"] == str(incident_id) and subject_part in m["Subject"]
        ]


@dataclass
class Central:
    url: str
    broker: Mosquitto
    sessions: sessionmaker[Session]
    webhook: WebhookReceiver
    smtp: SmtpSink
    cta_messages: list[dict[str, Any]]


def _dispatch_yaml(path: Path, webhook: WebhookReceiver, smtp: SmtpSink, broker: Mosquitto) -> Path:
    path.write_text(
        f"""
channels:
  codis-json: {{type: webhook, url: "http://127.0.0.1:{webhook.port}/codis"}}
  codis-cap: {{type: webhook, url: "http://127.0.0.1:{webhook.port}/cap", format: cap}}
  astreinte: {{type: email, host: 127.0.0.1, port: {smtp.port}, sender: vigifeu@sdis06.test,
              recipients: [astreinte@sdis06.test]}}
  cta: {{type: mqtt, url: "mqtt://127.0.0.1:{broker.port}", topic: sdis06/cta/vigifeu}}
rules:
  - {{name: toujours, channels: [codis-json, codis-cap, astreinte, cta]}}
escalation: {{after_s: {ESCALATION_AFTER_S}, channels: [astreinte]}}
retry: {{max_attempts: 3, first_delay_s: 0.5, max_delay_s: 2}}
""",
        encoding="utf-8",
    )
    return path


def _cta_listener(broker: Mosquitto, received: list[dict[str, Any]]) -> Any:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-cta")
    client.on_message = lambda _c, _u, message: received.append(json.loads(message.payload))
    client.connect("127.0.0.1", broker.port)
    client.subscribe("sdis06/cta/vigifeu", qos=1)
    client.loop_start()
    return client


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    if not Path("/usr/sbin/mosquitto").exists() and not Path("/usr/bin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (see .ci/run)")
    workdir = tmp_path_factory.mktemp("console")
    broker = Mosquitto(workdir / "mosquitto")
    broker.start()
    webhook = WebhookReceiver()
    webhook.start()
    smtp = SmtpSink()
    smtp.controller.start()
    cta_messages: list[dict[str, Any]] = []
    cta = _cta_listener(broker, cta_messages)
    port = free_port()
    database_url = f"sqlite:///{workdir / 'central.sqlite3'}"
    settings = CentralSettings(
        environment="dev",
        database_url=database_url,
        mqtt_url=f"mqtt://127.0.0.1:{broker.port}",
        instance_id="console-test",
        secret_key=SecretStr("a-test-secret-of-some-length"),
    )
    console = ConsoleSettings(
        public_url=f"http://127.0.0.1:{port}",
        dispatch_config=_dispatch_yaml(workdir / "dispatch.yaml", webhook, smtp, broker),
        admin_username=ADMIN[0],
        admin_password=SecretStr(ADMIN[1]),
        dispatch_tick_s=0.2,
    )
    app = create_app(settings, plugins=[ConsolePlugin(settings, console)])
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, name="central", daemon=True)
    thread.start()
    wait_for_port(port, 60)
    wait_until(lambda: server.started, 60, "central to start")
    engine = make_engine(database_url)
    try:
        yield Central(
            f"http://127.0.0.1:{port}",
            broker,
            make_session_factory(engine),
            webhook,
            smtp,
            cta_messages,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()
        cta.disconnect()
        cta.loop_stop()
        smtp.controller.stop()
        webhook.stop()
        broker.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield chromium
        chromium.close()
    expect.set_options(timeout=None)  # back to Playwright's default


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nconsole screenshots: {SCREENSHOTS}")
    return SCREENSHOTS
