"""Central over a real Mosquitto: in-process apps and a paho publisher that plays the edge."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient

import contracts
from central.app import create_app
from central.services import Services
from central.settings import CentralSettings
from tests.support.services import Mosquitto
from tests.unit.central.conftest import database_url, sqlite_url

__all__ = ["database_url", "sqlite_url"]


class Publisher:
    """A paho client publishing like an edge box: QoS 1, each message acknowledged by the broker."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"edge-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def raw(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def send(self, message: contracts.WireMessage) -> None:
        kind = (
            contracts.MessageKind.ALERT
            if isinstance(message, contracts.AlertMessage)
            else contracts.MessageKind.HEARTBEAT
        )
        self.raw(
            contracts.topic_for(message.site_id, message.camera_id, kind),
            contracts.encode_message(message),
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[Publisher]:
    client = Publisher(mosquitto.port)
    yield client
    client.close()


@contextmanager
def running_central(
    database_url: str, mosquitto: Mosquitto, instance_id: str = "central-test", **settings: Any
) -> Iterator[TestClient]:
    """One central instance in this process (real lifespan: migrations, geodata, ingest)."""
    config = CentralSettings(
        environment="dev",
        database_url=database_url,
        mqtt_url=mosquitto.url,
        instance_id=instance_id,
        **settings,
    )
    with TestClient(create_app(config, plugins=[])) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        assert services.consumer is not None
        assert services.consumer.wait_connected(10), "central did not subscribe at the broker"
        assert client.get("/api/v1/health").json()["mqtt_connected"]
        yield client
