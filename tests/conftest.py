"""Shared fixtures: real services on free loopback ports, a tiny ONNX model, hermetic ultralytics."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import Mosquitto, Postgres, RtspCamera
from tests.support.tiny_model import build_tiny_detector


@pytest.fixture(scope="session", autouse=True)
def _hermetic_ultralytics(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may reach the network through ultralytics (settings, fonts, downloads)."""
    try:
        from vigifeu.training.hermetic import make_ultralytics_hermetic
    except ImportError:  # runtime-only install: ultralytics is not there either
        return
    try:
        make_ultralytics_hermetic(tmp_path_factory.mktemp("ultralytics"))
    except ImportError:
        return


def _require(binary: str) -> None:
    if shutil.which(binary) is None and not Path(f"/usr/sbin/{binary}").exists():
        pytest.skip(f"{binary} is not installed (see .ci/run)")


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A running Mosquitto broker for one test; ``stop()``/``start()`` simulate an outage."""
    _require("mosquitto")
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Postgres]:
    cluster = Postgres()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Postgres) -> str:
    """A fresh, empty database on the session's throw-away cluster (SQLAlchemy URL)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        f"host=127.0.0.1 port={postgres_cluster.port} user=postgres dbname=postgres",
        autocommit=True,
    ) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return postgres_cluster.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def rtsp_camera() -> Iterator[RtspCamera]:
    """A real RTSP camera looping the committed smoke clip; ``kill()``/``start()`` for outages."""
    if not Path("/usr/bin/python3").exists():
        pytest.skip("system python3 with python3-gi is needed for the RTSP server")
    camera = RtspCamera()
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a tiny ONNX detector with the production signature (bright grey patch = smoke)."""
    return build_tiny_detector(tmp_path_factory.mktemp("models") / "tiny.onnx")
