"""Changes cross central instances over a real Mosquitto, so every console sees every change."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from central.events_bus import Change, EventBus
from central.ingest.consumer import RECONNECT_MAX_S, MqttEndpoint
from central.ingest.metrics import IngestMetrics
from central.relay import ChangeRelay, RelayedChange, topic_of
from central.services import Services
from tests.integration.central.conftest import Publisher, running_central
from tests.support.services import Mosquitto
from tests.support.waiting import wait_until
from tests.unit.central.builders import CABANELLE, alert

pytestmark = pytest.mark.integration


class Watcher:
    """Subscribes to a bus from its own thread and event loop, as a live page does; ``ended``
    once the bus ends the subscription."""

    def __init__(self, bus: EventBus) -> None:
        self.changes: list[Change] = []
        self._stop = threading.Event()
        before = bus.subscriber_count
        self._thread = threading.Thread(target=asyncio.run, args=(self._watch(bus),), daemon=True)
        self._thread.start()
        wait_until(lambda: bus.subscriber_count > before, what="the watcher's subscription")

    async def _watch(self, bus: EventBus) -> None:
        async for change in bus.subscribe(heartbeat_s=0.05):
            if self._stop.is_set():
                return
            if change is not None:
                self.changes.append(change)

    @property
    def ended(self) -> bool:
        return not self._thread.is_alive()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@contextmanager
def relay(mosquitto: Mosquitto, instance_id: str) -> Iterator[tuple[EventBus, IngestMetrics]]:
    bus, metrics = EventBus(), IngestMetrics()
    running = ChangeRelay(MqttEndpoint.from_url(mosquitto.url), instance_id, bus, metrics)
    running.start()
    try:
        yield bus, metrics
    finally:
        running.stop()


def test_a_change_made_on_one_instance_reaches_the_others_once(
    mosquitto: Mosquitto, publisher: Publisher
) -> None:
    with (
        relay(mosquitto, "central-a") as (bus_a, metrics_a),
        relay(mosquitto, "central-b") as (
            bus_b,
            metrics_b,
        ),
    ):
        watch_a, watch_b = Watcher(bus_a), Watcher(bus_b)
        # Both relays subscribe on connect: wait until a change gets through.
        wait_until(
            lambda: bus_a.publish(Change("camera", "probe/cam")) or watch_b.changes,
            what="the relays' subscriptions",
        )
        watch_b.changes.clear()
        bus_a.publish(Change("incident", "42", "created"))
        wait_until(lambda: Change("incident", "42", "created", "central-a") in watch_b.changes)
        # Bad input on the relay's topics is counted and dropped; later changes still pass.
        publisher.raw(topic_of("central-a"), b"{not json")
        forged = b'{"kind": "incident", "key": "1", "action": "created", "origin": "central-c"}'
        publisher.raw(topic_of("central-a"), forged)
        bus_a.publish(Change("incident", "43", "acknowledged"))
        wait_until(lambda: Change("incident", "43", "acknowledged", "central-a") in watch_b.changes)
        assert metrics_b.snapshot()["changes_relay_invalid"] == 2
        assert all(change.key != "1" for change in watch_b.changes)
        # The instance that made a change does not get it back, and B's relay did not echo it.
        assert Change("incident", "42", "created", "central-b") not in watch_a.changes
        assert [c for c in watch_a.changes if c.key == "42"] == [
            Change("incident", "42", "created")
        ]
        assert metrics_a.snapshot().get("changes_relayed_in", 0) == 0
        watch_a.close()
        watch_b.close()


def test_an_incident_ingested_by_either_instance_is_pushed_by_both(
    sqlite_url: str, mosquitto: Mosquitto, publisher: Publisher
) -> None:
    with (
        running_central(sqlite_url, mosquitto, instance_id="central-a") as a,
        running_central(sqlite_url, mosquitto, instance_id="central-b") as b,
    ):
        services: list[Services] = [client.app.state.services for client in (a, b)]  # type: ignore[attr-defined]
        watchers = [Watcher(s.bus) for s in services]
        for index in range(6):  # the broker gives each to one instance
            publisher.send(alert(CABANELLE, azimuth_deg=200.0 + 20 * index, event_id=uuid.uuid4()))
        incident_ids = wait_until(lambda: _incident_ids(a) if len(_incident_ids(a)) == 6 else None)
        for watcher in watchers:
            wait_until(
                lambda w=watcher: (
                    {c.key for c in w.changes if c.action == "created"} >= incident_ids
                ),
                what="a created change for every incident on both instances",
            )
        local = [
            {c.key for c in w.changes if c.action == "created" and c.origin is None}
            for w in watchers
        ]
        # Each incident was made by one instance: local there, relayed to the other.
        assert local[0] | local[1] == incident_ids
        assert not local[0] & local[1]
        for watcher in watchers:
            watcher.close()


def _incident_ids(client: TestClient) -> set[str]:
    return {str(item["id"]) for item in client.get("/api/v1/incidents").json()["items"]}


def test_after_a_broker_outage_live_pages_are_told_to_re_read(
    mosquitto: Mosquitto, publisher: Publisher
) -> None:
    """What others changed while the relay was away is unknown: the streams end, and the pages
    reconnect and re-read everything."""
    with relay(mosquitto, "central-a") as (bus, _):
        watcher = Watcher(bus)
        # The relay connects in the background; cut the broker only once it is subscribed (a
        # change of another instance gets through), or its first connection would come after
        # the outage, and a first connection ends nothing.
        probe = RelayedChange(kind="camera", key="probe/cam", action="updated", origin="central-z")

        def probe_heard() -> bool:
            publisher.raw(topic_of("central-z"), probe.model_dump_json().encode())
            return bool(watcher.changes)

        wait_until(probe_heard, what="the relay's subscription")
        mosquitto.stop()
        time.sleep(0.5)
        assert not watcher.ended  # a lost broker alone ends nothing
        mosquitto.start()
        # paho retries with a backoff doubling from 1 s to 30 s: the next try can be 30 s away.
        wait_until(
            lambda: watcher.ended,
            timeout_s=RECONNECT_MAX_S + 15,
            what="the live subscription to end after reconnecting",
        )
        Watcher(bus).close()  # the bus itself stays open for the reconnecting pages
