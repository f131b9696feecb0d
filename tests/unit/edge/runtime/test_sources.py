"""Sources: replays behave like cameras (loop or end), bad frames are None, URLs stay secret."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import SecretStr

from edge import config
from edge.ingest.sources import (
    Grab,
    ImageFolderSource,
    RtspSource,
    SourceError,
    VideoFileSource,
    source_for,
    usable_image,
)
from edge.publish.broker import parse_broker_url
from tests.support.services import SAMPLE_CLIP, free_port


def grabs(source: VideoFileSource | ImageFolderSource, count: int) -> list[Grab]:
    return [source.grab() for _ in range(count)]


@pytest.mark.parametrize(("loop", "last"), [(True, Grab.FRAME), (False, Grab.ENDED)])
def test_a_video_replays_at_its_rate_and_loops_or_ends(loop: bool, last: Grab) -> None:
    source = VideoFileSource(SAMPLE_CLIP, loop=loop)
    source.open()
    try:
        assert source.frame_interval_s == pytest.approx(0.2)  # the clip is 5 fps
        results = grabs(source, 231)  # the clip has 230 frames
        image = source.retrieve()
    finally:
        source.close()
    assert results[:230] == [Grab.FRAME] * 230
    assert results[230] is last
    assert image is None or image.shape == (480, 640, 3)


def test_a_missing_video_cannot_be_opened() -> None:
    with pytest.raises(SourceError, match="no such video file"):
        VideoFileSource(Path("/nonexistent.mp4"), loop=True).open()


def test_an_image_folder_plays_in_name_order_and_counts_a_corrupt_image(tmp_path: Path) -> None:
    for name, value in (("b.png", 200), ("a.png", 100)):
        cv2.imwrite(str(tmp_path / name), np.full((20, 30, 3), value, np.uint8))
    (tmp_path / "c.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    source = ImageFolderSource(tmp_path, loop=False, frame_interval_s=10.0)
    source.open()
    seen = []
    while source.grab() is Grab.FRAME:
        image = source.retrieve()
        seen.append(None if image is None else int(image[0, 0, 0]))
    assert seen == [100, 200, None]
    assert source.frame_interval_s == 10.0


def test_an_empty_image_folder_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        ImageFolderSource(tmp_path, loop=True, frame_interval_s=1.0).open()


def test_an_unreachable_camera_fails_fast_without_leaking_its_password() -> None:
    port = free_port()
    settings = config.RtspSource(
        kind="rtsp",
        url=SecretStr(f"rtsp://admin:hunter2@127.0.0.1:{port}/live"),
        open_timeout_s=1,
        read_timeout_s=1,
    )
    source = RtspSource(settings)
    with pytest.raises(SourceError) as raised:
        source.open()
    assert "hunter2" not in str(raised.value)
    assert source.description == f"rtsp://***@127.0.0.1:{port}/live"
    assert source.frame_interval_s is None
    assert source.grab() is Grab.LOST


def test_an_image_folder_camera_advances_one_image_per_cadence(tmp_path: Path) -> None:
    camera = config.Camera(
        id="cam",
        source=config.ImageFolderSource(kind="images", path=tmp_path),
        heading_deg=0,
        hfov_deg=60,
        vfov_deg=40,
        cadence_s=15,
    )
    assert source_for(camera).frame_interval_s == 15


@pytest.mark.parametrize(
    "image",
    [
        None,
        np.zeros((0, 10, 3), np.uint8),  # empty
        np.zeros((10, 10), np.uint8),  # grey
        np.zeros((10, 10, 3), np.float32),  # wrong type
        np.zeros((10, 10, 4), np.uint8),  # alpha
    ],
)
def test_unusable_images_are_refused(image: object) -> None:
    assert usable_image(image) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://broker.local:1884", ("broker.local", 1884, False)),
        ("mqtt://10.0.0.1", ("10.0.0.1", 1883, False)),
        ("mqtts://central.example", ("central.example", 8883, True)),
    ],
)
def test_broker_urls(url: str, expected: tuple[str, int, bool]) -> None:
    broker = parse_broker_url(url, "edge", "s3cret")
    assert (broker.host, broker.port, broker.tls) == expected
    assert "s3cret" not in broker.describe() + repr(broker)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://broker:1883", "must be mqtt://"),
        ("mqtt://user:pw@broker:1883", "VIGIFEU_MQTT_USERNAME"),
        ("mqtt://broker:notaport", "invalid port"),
    ],
)
def test_bad_broker_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_broker_url(url, None, None)
