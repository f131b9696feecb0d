"""What the other central instances change, on this instance's live pages.

Several instances share the alerts (MQTT shared subscription) and operators act through any of
them, but each instance's ``EventBus`` only hears its own changes: a console served by one
instance would not show, until reloaded, the incident another instance just created. So every
instance publishes the changes it makes to ``vigifeu-central/v1/changes/<instance_id>`` and
subscribes to ``vigifeu-central/v1/changes/+``, a plain subscription with MQTT 5's No Local
option (its own publications are not sent back), and publishes the others' changes on its bus
with their ``origin``.

A change only says what to re-read, and a page that reconnects re-reads everything: so QoS 1
over a clean session, nothing queued for an instance that is down. What others changed while
this relay was disconnected is therefore unknown here: on each reconnection the relay ends the
live pages' streams, and they reconnect and re-read. While disconnected, at most
``SEND_QUEUE_MAX`` changes wait to be sent (the oldest hints matter least; the others' pages
re-read when this instance's relay comes back anyway). The topic tree is central's own,
outside the edge contract's ``vigifeu/v1/...``, so ingest never sees it; central's broker
credentials need read and write access to it. A malformed message is counted
(``changes_relay_invalid``), logged and dropped; a refused subscription or a full send queue
is logged and counted too.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from central.events_bus import Change, EventBus
from central.ingest.consumer import MqttEndpoint, mqtt_client
from central.ingest.metrics import IngestMetrics
from central.settings import MQTT_NAME_PATTERN

logger = logging.getLogger(__name__)

TOPIC_PREFIX = "vigifeu-central/v1/changes"
KEEPALIVE_S = 30
SEND_QUEUE_MAX = 1000


class RelayedChange(BaseModel):
    """The JSON payload of one relayed change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["incident", "camera", "dispatch"]
    key: str = Field(min_length=1, max_length=255)
    action: str = Field(pattern=r"^[a-z_-]{1,32}$")
    origin: str = Field(pattern=MQTT_NAME_PATTERN)  # an instance id


def topic_of(instance_id: str) -> str:
    return f"{TOPIC_PREFIX}/{instance_id}"


class ChangeRelay:
    """``start()`` connects in the background (and reconnects); ``stop()`` disconnects."""

    def __init__(
        self, endpoint: MqttEndpoint, instance_id: str, bus: EventBus, metrics: IngestMetrics
    ) -> None:
        self._endpoint = endpoint
        self._instance_id = instance_id
        self._bus = bus
        self._metrics = metrics
        self._connections = 0
        self._stopping = False
        self._client = mqtt_client(endpoint, f"{instance_id}-changes")
        self._client.max_queued_messages_set(SEND_QUEUE_MAX)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        bus.add_forwarder(self.forward)

    def start(self) -> None:
        logger.info("change relay connecting to %s", self._endpoint.redacted())
        self._client.connect_async(
            self._endpoint.host, self._endpoint.port, keepalive=KEEPALIVE_S, clean_start=True
        )
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()

    def forward(self, change: Change) -> None:
        """Publish a change made here (the bus calls this; paho queues while disconnected)."""
        payload = RelayedChange(
            kind=change.kind, key=change.key, action=change.action, origin=self._instance_id
        )
        sent = self._client.publish(topic_of(self._instance_id), payload.model_dump_json(), qos=1)
        if sent.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):  # NO_CONN: queued
            self._metrics.add("changes_relayed_out")
        else:
            self._metrics.add("changes_relay_dropped")
            logger.warning("change relay dropped a change (%s)", mqtt.error_string(sent.rc))

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            logger.error("broker refused the change relay: %s", reason)
            return
        client.subscribe(f"{TOPIC_PREFIX}/+", options=SubscribeOptions(qos=1, noLocal=True))
        self._connections += 1
        if self._connections > 1:
            logger.info("change relay reconnected: live pages re-read what they show")
            self._bus.end_subscriptions()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        logger.warning("change relay cannot reach %s; retrying", self._endpoint.redacted())

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if not self._stopping:
            logger.warning("change relay disconnected (%s); reconnecting", reason)

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: Any, _props: Any
    ) -> None:
        if any(reason.is_failure for reason in reasons):
            self._metrics.add("changes_relay_subscribe_refused")
            logger.error(
                "broker refused the change relay's subscription to %s/+ (%s): this instance's "
                "live pages miss the other instances' changes",
                TOPIC_PREFIX,
                ", ".join(str(reason) for reason in reasons),
            )

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            relayed = RelayedChange.model_validate_json(message.payload)
        except ValidationError as error:
            self._metrics.add("changes_relay_invalid")
            logger.warning(
                "dropped a malformed change on %s: %s",
                message.topic[:100],
                str(error).replace("\n", " ")[:300],
            )
            return
        if message.topic != topic_of(relayed.origin):
            self._metrics.add("changes_relay_invalid")
            logger.warning("dropped a change of %s on %s", relayed.origin, message.topic[:100])
            return
        if relayed.origin == self._instance_id:
            return  # our own, from a broker that ignores No Local
        self._metrics.add("changes_relayed_in")
        self._bus.publish(Change(relayed.kind, relayed.key, relayed.action, relayed.origin))
