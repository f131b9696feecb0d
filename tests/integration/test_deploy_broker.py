"""The production broker settings of deploy/mosquitto/ do what vigifeu relies on.

A real Mosquitto runs with deploy/mosquitto/vigifeu.conf included as on Debian, and its ACL;
only the listener (no TLS on loopback) and the file paths are the test's.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from central.ingest.consumer import subscriptions
from contracts import MessageKind, topic_for
from edge.publish.broker import Broker
from edge.publish.mqtt import MqttPublisher
from edge.publish.outbox import Outbox
from tests.conftest import _require
from tests.support.services import REPO_ROOT, Mosquitto
from tests.support.waiting import wait_until
from tests.unit.edge.runtime.factories import make_alert

pytestmark = pytest.mark.integration

DEPLOY = REPO_ROOT / "deploy" / "mosquitto"
PASSWORDS = {"central": "central-secret", "cabanelle": "cabanelle-secret"}
WAIT_S = 10


def settings_for_test(workdir: Path) -> str:
    """Debian's stock mosquitto.conf (persistence in a folder, conf.d included), with
    deploy/mosquitto/vigifeu.conf in that conf.d, less its TLS listener, its files in ``workdir``.
    """
    swapped = {
        "listener": None,  # the test's own, on loopback
        "certfile": None,
        "keyfile": None,
        "password_file": f"password_file {workdir / 'vigifeu.passwd'}",
        "acl_file": f"acl_file {DEPLOY / 'vigifeu.acl'}",
    }
    lines, seen = [], set()
    for line in (DEPLOY / "vigifeu.conf").read_text().splitlines():
        key = line.split(" ", 1)[0]
        if key in swapped:
            seen.add(key)
            line = swapped[key] or ""
        lines.append(line)
    assert seen == set(swapped), f"vigifeu.conf no longer sets {set(swapped) - seen}"
    included = workdir / "conf.d"
    included.mkdir()
    (included / "vigifeu.conf").write_text("\n".join(lines) + "\n")
    return f"persistence true\npersistence_location {workdir}/\ninclude_dir {included}\n"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    _require("mosquitto")
    _require("mosquitto_passwd")
    workdir = tmp_path / "broker"
    workdir.mkdir()
    passwords = workdir / "vigifeu.passwd"
    for user, password in PASSWORDS.items():
        create = ["-c"] if not passwords.exists() else []
        subprocess.run(
            ["mosquitto_passwd", *create, "-b", str(passwords), user, password],
            check=True,
            capture_output=True,
            timeout=30,
        )
    server = Mosquitto(workdir, settings=settings_for_test(workdir))
    server.start()
    yield server
    server.stop()


class Peer:
    """One MQTT v5 client; records its CONNACKs, SUBACKs, PUBACKs and messages."""

    def __init__(self, port: int, user: str | None, client_id: str | None = None) -> None:
        self.port = port
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"{user}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        if user is not None:
            self.client.username_pw_set(user, PASSWORDS.get(user, "wrong"))
        self.connacks: list[tuple[ReasonCode, bool]] = []
        self.subacks: list[list[ReasonCode]] = []
        self.pubacks: dict[int, ReasonCode] = {}
        self.messages: list[str] = []
        self._event = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    def _note(self, action: Any) -> None:
        with self._event:
            action()
            self._event.notify_all()

    def _on_connect(self, _c: Any, _u: Any, flags: Any, reason: ReasonCode, *_: Any) -> None:
        self._note(lambda: self.connacks.append((reason, flags.session_present)))

    def _on_subscribe(
        self, _c: Any, _u: Any, _mid: int, reasons: list[ReasonCode], *_: Any
    ) -> None:
        self._note(lambda: self.subacks.append(reasons))

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: ReasonCode, *_: Any) -> None:
        self._note(lambda: self.pubacks.__setitem__(mid, reason))

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._note(lambda: self.messages.append(message.topic))

    def wait(self, condition: Any, what: str) -> None:
        with self._event:
            assert self._event.wait_for(condition, WAIT_S), f"not within {WAIT_S} s: {what}"

    def connect(self, *, persistent: bool = False) -> tuple[ReasonCode, bool]:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 3600 if persistent else 0
        count = len(self.connacks)
        self.client.connect(
            "127.0.0.1", self.port, clean_start=not persistent, properties=properties
        )
        self.client.loop_start()
        self.wait(lambda: len(self.connacks) > count, "a CONNACK")
        return self.connacks[-1]

    def subscribe(self, filters: list[tuple[str, int]]) -> list[ReasonCode]:
        count = len(self.subacks)
        self.client.subscribe(filters)
        self.wait(lambda: len(self.subacks) > count, "a SUBACK")
        return self.subacks[-1]

    def publish(self, topic: str) -> ReasonCode:
        mid = self.client.publish(topic, b"{}", qos=1).mid
        self.wait(lambda: mid in self.pubacks, f"the PUBACK of {topic}")
        return self.pubacks[mid]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


MakePeer = Callable[..., Peer]


@pytest.fixture
def peers(broker: Mosquitto) -> Iterator[MakePeer]:
    opened: list[Peer] = []

    def make(user: str | None, client_id: str | None = None) -> Peer:
        peer = Peer(broker.port, user, client_id)
        opened.append(peer)
        return peer

    yield make
    for peer in opened:
        peer.close()


def test_nobody_gets_in_without_a_login(peers: MakePeer) -> None:
    assert peers(None).connect()[0].is_failure
    assert peers("intruder").connect()[0].is_failure


def test_an_edge_box_publishes_its_own_site_only_and_central_reads_every_site(
    peers: MakePeer,
) -> None:
    central = peers("central")
    assert not central.connect()[0].is_failure
    granted = central.subscribe(subscriptions("vigifeu-central"))
    assert [reason.value for reason in granted] == [1, 1, 1]  # QoS 1 each, none refused

    edge = peers("cabanelle")
    assert not edge.connect()[0].is_failure
    own = topic_for("cabanelle", "nord", MessageKind.ALERT)
    other = topic_for("vescavo", "sud", MessageKind.ALERT)
    assert not edge.publish(own).is_failure
    assert edge.publish(other).getName() == "Not authorized"
    # The order of one client's messages is kept: once a later one is in, the forged one is out.
    last = topic_for("cabanelle", "nord", MessageKind.HEARTBEAT)
    edge.publish(last)
    central.wait(lambda: last in central.messages, "the edge's heartbeat at central")
    assert central.messages == [own, last]

    # Central reads the sites; it does not speak for them.
    assert central.publish(topic_for("cabanelle", "nord", MessageKind.ALERT)).is_failure


def test_what_the_broker_acknowledged_survives_its_restart_until_central_takes_it(
    broker: Mosquitto, peers: MakePeer
) -> None:
    central = peers("central", client_id="central-a")
    assert central.connect(persistent=True) == (ReasonCode(PacketTypes.CONNACK, "Success"), False)
    central.subscribe(subscriptions("vigifeu-central"))
    central.close()  # central is down

    edge = peers("cabanelle")
    edge.connect()
    alert = topic_for("cabanelle", "nord", MessageKind.ALERT)
    assert not edge.publish(alert).is_failure  # the edge forgets it now
    edge.close()
    # A hard crash, not a clean stop: what was saved is all there is. Mosquitto saves a snapshot
    # in its loop right after a change (not a journal before the PUBACK), so wait for that save;
    # with Mosquitto's default settings it would come 30 min later.
    saved = broker.workdir / "mosquitto.db"
    wait_until(
        lambda: saved.exists() and alert.encode() in saved.read_bytes(),
        timeout_s=WAIT_S,
        what="the alert in the saved database",
    )
    assert broker.process is not None
    broker.process.kill()
    broker.process.wait(10)
    broker.start()

    back = peers("central", client_id="central-a")
    assert back.connect(persistent=True)[1] is True  # the session is still there
    back.wait(lambda: alert in back.messages, "the alert queued before the crash")


@pytest.mark.parametrize("configured_site", ["cabanelle", "vescavo"])
def test_an_edge_box_keeps_the_alerts_the_broker_refuses(
    broker: Mosquitto,
    peers: MakePeer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    configured_site: str,
) -> None:
    """Logged in as cabanelle, a box whose camera config says another site is refused: its
    alert stays in its outbox, for the next start once the login or the config is fixed."""
    central = peers("central")
    central.connect()
    central.subscribe(subscriptions("vigifeu-central"))
    outbox = Outbox(tmp_path / "outbox.sqlite3", max_alerts=10)
    alert = make_alert().model_copy(update={"site_id": configured_site})
    outbox.put(alert)
    login = Broker("127.0.0.1", broker.port, False, "cabanelle", PASSWORDS["cabanelle"])
    publisher = MqttPublisher(login, outbox, configured_site)
    thread = threading.Thread(target=publisher.run)
    thread.start()
    try:
        wait_until(
            lambda: publisher.stats().alerts_acknowledged + publisher.stats().alerts_rejected,
            timeout_s=WAIT_S,
            what="the broker's answer",
        )
    finally:
        publisher.close()
        thread.join(30)
        stats, kept = publisher.stats(), outbox.depth()
        outbox.close()
    topic = topic_for(configured_site, alert.camera_id, MessageKind.ALERT)
    if configured_site == "cabanelle":
        assert (stats.alerts_acknowledged, stats.alerts_rejected, kept) == (1, 0, 0)
        central.wait(lambda: topic in central.messages, "the alert at central")
    else:
        assert (stats.alerts_acknowledged, stats.alerts_rejected, kept) == (0, 1, 1)
        assert "broker refused alert row 1: Not authorized" in caplog.text
        assert topic not in central.messages
