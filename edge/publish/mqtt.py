"""MQTT publisher (paho-mqtt 2, MQTT v5): drains the outbox with QoS 1, keeps statuses retained.

One thread owns the paho client (``run``): it connects with capped backoff and jitter, runs the
network loop, hands outbox rows to paho in row order and deletes each row on its PUBACK. paho
keeps the handed, unacknowledged messages and re-sends them first, in order, after a reconnect,
so alerts of a camera reach the broker in capture order. At most ``window`` alerts are in flight.
A restarted process starts again from the oldest row of the outbox (at-least-once: central
deduplicates by ``alert_id``).

The edge box's retained status ``vigifeu/v1/<site>/_edge/status`` is ``online`` while connected
and is the last will, so the broker marks the box ``offline`` when the connection dies.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from contracts import (
    EDGE_STATUS_CAMERA_ID,
    CameraState,
    CameraStatusMessage,
    HeartbeatMessage,
    MessageKind,
    encode_message,
    topic_for,
)
from edge.publish.broker import Broker
from edge.publish.outbox import Outbox
from edge.runtime.backoff import Backoff

logger = logging.getLogger(__name__)

# The network loop wakes at least this often to hand new outbox rows and statuses to paho: the
# added alert latency is at most this, for a few hundred idle wake-ups a minute.
LOOP_TIMEOUT_S = 0.1
KEEPALIVE_S = 30
# Time given at shutdown to get the final statuses acknowledged before disconnecting.
SHUTDOWN_FLUSH_S = 2.0


@dataclass(frozen=True, slots=True)
class PublisherStats:
    connected: bool
    connections: int
    alerts_acknowledged: int
    alerts_rejected: int
    alerts_in_flight: int


class MqttPublisher:
    """Publishes alerts from the outbox, retained camera statuses and heartbeats."""

    def __init__(
        self,
        broker: Broker,
        outbox: Outbox,
        site_id: str,
        *,
        window: int = 20,
        backoff: Backoff | None = None,
    ) -> None:
        self._broker = broker
        self._outbox = outbox
        self._site_id = site_id
        self._closing = threading.Event()
        self._window = window
        self._backoff = backoff or Backoff(initial_s=1.0, max_s=10.0)
        self._lock = threading.Lock()
        self._statuses: dict[str, CameraStatusMessage] = {}
        self._unsent_statuses: set[str] = set()
        self._heartbeats: list[HeartbeatMessage] = []
        self._in_flight: dict[int, int] = {}  # paho mid -> outbox row id
        # Rows PUBACKed during one network-loop pass, forgotten together after it (one fsync).
        self._acknowledged_rows: list[int] = []
        self._handed_up_to = 0  # highest row id given to paho by this process
        self._connected = False
        self._connections = 0
        self._acknowledged = 0
        self._rejected = 0
        self._client = self._make_client()

    def set_status(self, status: CameraStatusMessage) -> None:
        """Record a camera's status; it is published retained now and after every reconnect."""
        with self._lock:
            self._statuses[status.camera_id] = status
            self._unsent_statuses.add(status.camera_id)

    def send_heartbeat(self, heartbeat: HeartbeatMessage) -> None:
        """Publish at QoS 0 when connected; dropped when not (the next one supersedes it)."""
        with self._lock:
            if self._connected:
                self._heartbeats.append(heartbeat)

    def stats(self) -> PublisherStats:
        with self._lock:
            return PublisherStats(
                connected=self._connected,
                connections=self._connections,
                alerts_acknowledged=self._acknowledged,
                alerts_rejected=self._rejected,
                alerts_in_flight=len(self._in_flight),
            )

    def close(self) -> None:
        """Ask ``run`` to deliver what it can within SHUTDOWN_FLUSH_S, say goodbye and return.

        The supervisor calls it after the inference loop has stored its last alerts.
        """
        self._closing.set()

    def run(self) -> None:
        """The thread body: publishes until ``close()``, then says goodbye and disconnects."""
        socket_open = False
        try:
            while not self._closing.is_set():
                if not socket_open:
                    socket_open = self._connect()
                    continue
                rc = self._client.loop(timeout=LOOP_TIMEOUT_S)
                self._forget_acknowledged()
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    socket_open = False
                    delay_s = self._backoff.next_delay()
                    logger.warning(
                        "MQTT connection to %s lost (%s); reconnecting in %.1f s",
                        self._broker.describe(),
                        mqtt.error_string(rc),
                        delay_s,
                    )
                    self._closing.wait(delay_s)
                    continue
                if self._connected:
                    self._send_statuses_and_heartbeats()
                    self._hand_alerts()
        finally:
            self._say_goodbye()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"vigifeu-edge-{self._site_id}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        client.connect_timeout = 5.0
        # The window bounds paho's memory; never let paho queue beyond what is in flight.
        client.max_inflight_messages_set(self._window)
        if self._broker.tls:
            client.tls_set()
        if self._broker.username is not None:
            client.username_pw_set(self._broker.username, self._broker.password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    def _edge_status(self, state: CameraState, reason: str) -> CameraStatusMessage:
        return CameraStatusMessage(
            site_id=self._site_id,
            camera_id=EDGE_STATUS_CAMERA_ID,
            state=state,
            reason=reason,
            changed_at=datetime.now(UTC),
        )

    def _connect(self) -> bool:
        # The last will's time is that of the connection: the broker sends it as it was set.
        will = self._edge_status(CameraState.OFFLINE, "edge connection lost")
        self._client.will_set(
            topic_for(self._site_id, EDGE_STATUS_CAMERA_ID, MessageKind.STATUS),
            encode_message(will),
            qos=1,
            retain=True,
        )
        try:
            self._client.connect(
                self._broker.host, self._broker.port, keepalive=KEEPALIVE_S, clean_start=True
            )
        except (OSError, ValueError) as error:
            delay_s = self._backoff.next_delay()
            logger.warning(
                "cannot connect to MQTT broker %s (%s); retrying in %.1f s",
                self._broker.describe(),
                error,
                delay_s,
            )
            self._closing.wait(delay_s)
            return False
        return True

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            logger.error("MQTT broker %s refused: %s", self._broker.describe(), reason_code)
            return
        self._backoff.reset()
        with self._lock:
            self._connected = True
            self._connections += 1
            self._statuses[EDGE_STATUS_CAMERA_ID] = self._edge_status(CameraState.ONLINE, "")
            self._unsent_statuses = set(self._statuses)
        logger.info(
            "connected to MQTT broker %s (%d alerts waiting)",
            self._broker.describe(),
            self._outbox.depth(),
        )

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        with self._lock:
            self._connected = False
            self._heartbeats.clear()

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        with self._lock:
            row_id = self._in_flight.pop(mid, None)
        if row_id is None:
            return  # a status or heartbeat
        if reason_code.is_failure:
            # The broker refused it (e.g. not authorised): keep the row, it is re-sent at the next
            # start; retrying now would loop on a configuration error.
            logger.error("broker refused alert row %d: %s", row_id, reason_code)
            with self._lock:
                self._rejected += 1
            return
        self._acknowledged_rows.append(row_id)

    def _forget_acknowledged(self) -> None:
        rows, self._acknowledged_rows = self._acknowledged_rows, []
        self._outbox.acknowledge(rows)
        with self._lock:
            self._acknowledged += len(rows)

    def _send_statuses_and_heartbeats(self) -> None:
        with self._lock:
            statuses = [self._statuses[camera_id] for camera_id in sorted(self._unsent_statuses)]
            self._unsent_statuses.clear()
            heartbeats, self._heartbeats = self._heartbeats, []
        for status in statuses:
            topic = topic_for(self._site_id, status.camera_id, MessageKind.STATUS)
            self._client.publish(topic, encode_message(status), qos=1, retain=True)
        for heartbeat in heartbeats:
            topic = topic_for(self._site_id, heartbeat.camera_id, MessageKind.HEARTBEAT)
            self._client.publish(topic, encode_message(heartbeat), qos=0)

    def _hand_alerts(self) -> None:
        with self._lock:
            room = self._window - len(self._in_flight)
        if room <= 0:
            return
        for row in self._outbox.pending(after_row_id=self._handed_up_to, limit=room):
            info = self._client.publish(row.topic, row.payload, qos=1)
            if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                logger.warning("paho did not take alert row %d: %s", row.row_id, info.rc)
                return
            # NO_CONN: paho keeps the message and sends it first thing after the reconnect.
            with self._lock:
                self._in_flight[info.mid] = row.row_id
            self._handed_up_to = row.row_id

    def _say_goodbye(self) -> None:
        """Clean shutdown: retained ``offline`` for the box and each camera, then disconnect."""
        if not self._client.is_connected():
            return
        with self._lock:
            cameras = [c for c in self._statuses if c != EDGE_STATUS_CAMERA_ID]
        goodbyes = [
            CameraStatusMessage(
                site_id=self._site_id,
                camera_id=camera_id,
                state=CameraState.OFFLINE,
                reason="edge worker stopped",
                changed_at=datetime.now(UTC),
            )
            for camera_id in cameras
        ]
        goodbyes.append(self._edge_status(CameraState.OFFLINE, "edge worker stopped"))
        infos = [
            self._client.publish(
                topic_for(self._site_id, status.camera_id, MessageKind.STATUS),
                encode_message(status),
                qos=1,
                retain=True,
            )
            for status in goodbyes
        ]
        # The alerts stored last (ends of open events) go out too if the broker is quick;
        # whatever is not acknowledged in time stays in the outbox for the next start.
        deadline_s = time.monotonic() + SHUTDOWN_FLUSH_S
        while time.monotonic() < deadline_s:
            self._hand_alerts()
            with self._lock:
                idle = not self._in_flight
            if idle and all(info.is_published() for info in infos):
                break
            rc = self._client.loop(timeout=LOOP_TIMEOUT_S)
            self._forget_acknowledged()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
        self._client.disconnect()
        self._client.loop(timeout=LOOP_TIMEOUT_S)
        self._forget_acknowledged()
        logger.info("disconnected from MQTT broker %s", self._broker.describe())
