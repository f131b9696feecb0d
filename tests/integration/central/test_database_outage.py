"""The database goes away for a few seconds while alerts arrive: ingest waits, loses nothing.

Messages stay unacknowledged while the commits fail, so the broker keeps them; once PostgreSQL
is back the same batch commits and is acknowledged.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.integration.central.conftest import Publisher, running_central
from tests.support.services import Mosquitto, Postgres
from tests.support.waiting import wait_until
from tests.unit.central.builders import CABANELLE, alert, later

pytestmark = pytest.mark.integration

OUTAGE_S = 4.0


class RestartablePostgres(Postgres):
    """A throw-away cluster that can be stopped and started again with its data."""

    def pause(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.workdir / "data"), "-m", "fast", "stop"
        )

    def resume(self) -> None:
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        data, log = self.workdir / "data", self.workdir / "log"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-o",
            options,
            "start",
        )


@pytest.fixture
def cluster() -> Iterator[RestartablePostgres]:
    server = RestartablePostgres()
    server.start()
    with psycopg.connect(
        f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True
    ) as connection:
        connection.execute("CREATE DATABASE outage")
    yield server
    server.stop()


def test_alerts_published_while_the_database_is_down_are_stored_when_it_returns(
    cluster: RestartablePostgres, mosquitto: Mosquitto, publisher: Publisher
) -> None:
    url = cluster.url.rsplit("/", 1)[0] + "/outage"
    sent = [
        alert(CABANELLE, azimuth_deg=240.0, event_id=uuid.uuid4(), captured_at=later(i))
        for i in range(20)
    ]
    with running_central(url, mosquitto) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        for message in sent[:10]:
            publisher.send(message)
        wait_until(lambda: services.metrics.snapshot().get("ingested", 0) == 10, what="first 10")
        cluster.pause()
        for message in sent[10:]:
            publisher.send(message)
        wait_until(
            lambda: services.metrics.snapshot().get("database_retries", 0) > 0,
            what="a failed commit",
        )
        time.sleep(OUTAGE_S)
        cluster.resume()
        # Ingest retries 0.5 s doubling to 30 s apart (central/ingest/batch.py): an outage that
        # a slow restart stretches past 15.5 s puts the next try up to 16 s after the resume.
        wait_until(
            lambda: services.metrics.snapshot().get("ingested", 0) == 20,
            timeout_s=60,
            what="all 20",
        )
        stored = {
            item["alert_id"] for item in client.get("/api/v1/alerts?limit=50").json()["items"]
        }
    assert stored == {str(message.alert_id) for message in sent}
    assert services.metrics.snapshot().get("quarantined", 0) == 0
