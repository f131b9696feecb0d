"""The test services themselves work: a broken fixture would make every integration test lie."""

from __future__ import annotations

import os
import threading
import time

import cv2
import numpy as np
import onnxruntime as ort
import paho.mqtt.client as mqtt
import paho.mqtt.publish as publish
import pytest
import sqlalchemy
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.support.services import Mosquitto, RtspCamera
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_mosquitto_delivers_qos1_and_survives_restart(mosquitto: Mosquitto) -> None:
    received: list[bytes] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t", protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, message: received.append(message.payload)
    client.connect("127.0.0.1", mosquitto.port)
    client.subscribe("t/#", qos=1)
    client.loop_start()
    try:
        time.sleep(0.3)
        client.publish("t/x", b"hello", qos=1).wait_for_publish(5)
        wait_until(lambda: received, 5, "the message")
    finally:
        client.loop_stop()
        client.disconnect()
    assert received == [b"hello"]
    mosquitto.stop()
    mosquitto.start()


def test_mosquitto_keeps_a_persistent_session_and_its_queue_across_a_restart(
    mosquitto: Mosquitto,
) -> None:
    """The outage tests rely on it: the subscriber may reconnect after the edge has published."""
    received: list[bytes] = []
    session_present: list[bool] = []
    subscriber = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id="persistent", protocol=mqtt.MQTTv5
    )
    subscriber.on_message = lambda _c, _u, message: received.append(message.payload)
    subscriber.on_connect = lambda _c, _u, flags, *_: session_present.append(flags.session_present)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 600
    subscriber.connect("127.0.0.1", mosquitto.port, clean_start=False, properties=properties)
    subscriber.loop_start()
    try:
        subscribed = threading.Event()
        subscriber.on_subscribe = lambda *_: subscribed.set()
        subscriber.subscribe("t/#", qos=1)
        assert subscribed.wait(5)
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()

    mosquitto.stop()
    mosquitto.start()
    publish.single("t/x", b"queued", qos=1, hostname="127.0.0.1", port=mosquitto.port)

    subscriber.reconnect()
    subscriber.loop_start()
    try:
        wait_until(lambda: received, 5, "the message queued for the session")
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    assert session_present == [False, True]
    assert received == [b"queued"]


def test_postgres_database_is_usable(postgres_url: str) -> None:
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("select 40 + 2")).scalar_one() == 42
    engine.dispose()


def test_rtsp_camera_serves_frames(rtsp_camera: RtspCamera) -> None:
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "rtsp_transport;tcp"
    capture = cv2.VideoCapture(
        rtsp_camera.url,
        cv2.CAP_FFMPEG,
        [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000],
    )
    ok, frame = capture.read()
    capture.release()
    assert ok
    assert frame.shape == (480, 640, 3)


def test_tiny_model_scores_a_bright_grey_patch(tiny_model) -> None:
    session = ort.InferenceSession(str(tiny_model), providers=["CPUExecutionProvider"])
    image = np.full((1, 3, 320, 320), 0.2, np.float32)
    (dark,) = session.run(None, {"images": image})
    image[:, :, 40:80, 40:80] = 0.9
    (bright,) = session.run(None, {"images": image})
    assert dark.shape == (1, 6, 64)
    assert dark[0, 4].max() < 0.01
    assert bright[0, 4].max() > 0.9
