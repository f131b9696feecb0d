"""The test services themselves work: a broken fixture would make every integration test lie."""

from __future__ import annotations

import os
import time

import cv2
import numpy as np
import onnxruntime as ort
import paho.mqtt.client as mqtt
import pytest
import sqlalchemy

from tests.support.services import Mosquitto, RtspCamera

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
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    assert received == [b"hello"]
    mosquitto.stop()
    mosquitto.start()


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
