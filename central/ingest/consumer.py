"""The MQTT side of ingest: paho-mqtt 2 (MQTT v5), persistent session, manual acknowledgement.

* Alerts and heartbeats come through the shared subscription ``$share/<group>/vigifeu/v1/+/+/
  {alert,heartbeat}``: the broker gives each message to one central instance.
* Statuses (retained availability) come through a plain subscription: every instance keeps the
  same state, and retained messages are never delivered to shared subscriptions (MQTT 5 §4.8.2).
* The session is persistent (clean start off, session expiry set), so the broker queues
  messages while central is down; QoS 1 messages are acknowledged only after the database
  commit, so a crash or a database outage before the commit makes the broker deliver them again.
  The broker must be allowed to queue enough for the longest outage: Mosquitto's default
  ``max_queued_messages`` is 1000 per client (drops beyond), so raise it (0 = no limit) and set
  ``max_queued_bytes`` instead.

paho's network thread only enqueues; one worker thread stores batches and acknowledges them in
arrival order.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from central.ingest.batch import BatchStore
from central.ingest.handler import Received
from contracts import MessageKind, subscription_filter

logger = logging.getLogger(__name__)

# Messages waiting for the worker. QoS 1 traffic is already bounded by the Receive Maximum we
# announce; this bound only matters for QoS 0 floods, and a full queue makes paho's thread
# wait, which pushes back on the broker through TCP.
QUEUE_SIZE = 10_000
QUEUE_POLL_S = 0.5
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30
JOIN_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> MqttEndpoint:
        parts = urlsplit(url)
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def redacted(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def mqtt_client(endpoint: MqttEndpoint, client_id: str, *, manual_ack: bool = False) -> mqtt.Client:
    """A paho-mqtt 2 MQTT v5 client for ``endpoint`` (credentials, TLS, reconnect backoff)."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if endpoint.username is not None:
        client.username_pw_set(endpoint.username, endpoint.password)
    if endpoint.tls:
        client.tls_set()
    client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
    return client


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    endpoint: MqttEndpoint
    client_id: str
    share_group: str
    session_expiry_s: int
    keepalive_s: int
    receive_maximum: int
    batch_max: int


def subscriptions(share_group: str) -> list[tuple[str, int]]:
    """(topic filter, QoS) pairs of one central instance."""
    shared = [
        (f"$share/{share_group}/{subscription_filter(kind)}", 1)
        for kind in (MessageKind.ALERT, MessageKind.HEARTBEAT)
    ]
    return [*shared, (subscription_filter(MessageKind.STATUS), 1)]


class MqttConsumer:
    """Start with ``start()`` (returns at once; connects and reconnects in the background)."""

    def __init__(self, config: ConsumerConfig, store: BatchStore, stop: threading.Event) -> None:
        self._config = config
        self._store = store
        self._stop = stop
        self._queue: queue.Queue[Received] = queue.Queue(QUEUE_SIZE)
        # Set once the broker has granted the subscription (SUBACK), not at CONNACK: until then
        # alerts published for this instance's group are not yet routed to it.
        self._connected = threading.Event()
        # Counts connections: set by paho's thread on connect, read by the worker.
        self._connection = 0
        self._client = self._make_client()
        self._worker = threading.Thread(target=self._work, name="ingest-worker", daemon=True)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def _make_client(self) -> mqtt.Client:
        client = mqtt_client(self._config.endpoint, self._config.client_id, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self._config.session_expiry_s
        properties.ReceiveMaximum = self._config.receive_maximum
        endpoint = self._config.endpoint
        logger.info("ingest connecting to %s as %s", endpoint.redacted(), self._config.client_id)
        self._client.connect_async(
            endpoint.host,
            endpoint.port,
            keepalive=self._config.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()
        self._worker.start()

    def stop(self) -> None:
        """Finish the batch in hand, then disconnect; unacknowledged messages stay queued."""
        self._stop.set()
        if self._worker.is_alive():
            self._worker.join(JOIN_TIMEOUT_S)
        self._client.disconnect()
        self._client.loop_stop()
        logger.info("ingest stopped; unacknowledged messages stay queued at the broker")

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            logger.error("broker refused the connection: %s", reason)
            return
        self._connection += 1
        logger.info("ingest connected (session present: %s)", flags.session_present)
        client.subscribe(subscriptions(self._config.share_group))

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: list[Any], _props: Any
    ) -> None:
        refused = [str(reason) for reason in reasons if reason.is_failure]
        if refused:
            # e.g. an ACL that does not allow the topics: nothing will arrive, say why.
            logger.error("broker refused the ingest subscription: %s", ", ".join(refused))
            return
        self._connected.set()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        # paho retries with the reconnect backoff (1 s doubling to 30 s): one line per attempt.
        logger.warning("cannot reach the broker at %s; retrying", self._config.endpoint.redacted())

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            logger.warning("ingest disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        received = Received(
            message.topic, bytes(message.payload), message.mid, message.qos, self._connection
        )
        while not self._stop.is_set():
            try:
                self._queue.put(received, timeout=QUEUE_POLL_S)
                return
            except queue.Full:
                continue

    def _next_batch(self) -> list[Received]:
        try:
            batch = [self._queue.get(timeout=QUEUE_POLL_S)]
        except queue.Empty:
            return []
        while len(batch) < self._config.batch_max:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _work(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch()
            if batch and self._store.store(batch):
                self._acknowledge(batch)

    def _acknowledge(self, batch: Sequence[Received]) -> None:
        """PUBACK each stored message once, in arrival order, on its own connection only.

        A message received before a reconnect is not acknowledged: the broker redelivers it on
        the new connection (persistent session), where it is a duplicate and acknowledged then.
        Acknowledging its old packet id could instead acknowledge a newer message that the
        broker gave the same id.
        """
        current = self._connection
        done: set[int] = set()
        for message in batch:
            if message.qos > 0 and message.connection == current and message.mid not in done:
                self._client.ack(message.mid, message.qos)
                done.add(message.mid)
