"""The ingest benchmark's workload is valid contract traffic that clusters as intended."""

from __future__ import annotations

import collections
import json
import uuid

import pytest
from sqlalchemy.orm import Session, sessionmaker

import contracts
from benchmarks.ingest import (
    CROP_SNAPSHOT_BYTES,
    FULL_SNAPSHOT_BYTES,
    ClusteringScore,
    make_workload,
    score_clustering,
    used_database_error,
)
from central.incidents.service import ingest_alert
from tests.unit.central.builders import CABANELLE, FakeLocator, alert


def test_workload_is_valid_alerts_two_sites_per_fire() -> None:
    workload = make_workload(fires=3, updates=2, seed=1)
    assert workload.count == 3 * 2 * (2 + 2)  # fires x sites x (start, updates, end)
    events: dict[str, set[str]] = {}
    for topic, lines in workload.lines.items():
        for line in lines:
            _, message = contracts.decode_message(topic, line.encode())
            assert isinstance(message, contracts.AlertMessage)
            events.setdefault(message.site_id, set()).add(str(message.event_id))
            if message.state is not contracts.EventState.END:
                sizes = sorted(len(s.jpeg_bytes()) for s in message.snapshots)
                assert sizes == [CROP_SNAPSHOT_BYTES, FULL_SNAPSHOT_BYTES]
    assert sum(len(ids) for ids in events.values()) == 3 * 2
    assert len(events) >= 2
    assert workload.mean_payload_bytes > FULL_SNAPSHOT_BYTES


def test_each_topic_is_in_capture_order() -> None:
    workload = make_workload(fires=4, updates=1, seed=2)
    for lines in workload.lines.values():
        times = [json.loads(line)["captured_at"] for line in lines]
        assert times == sorted(times)


def test_clustering_is_scored_against_the_simulated_fires() -> None:
    a, b, c, d, e = (uuid.uuid4() for _ in range(5))
    fire_of_event = {a: 0, b: 0, c: 1, d: 1, e: 2}
    # fire 0 whole; fire 1 split over incidents 2 and 3; fire 2 hidden in incident 3
    score = score_clustering({a: 1, b: 1, c: 2, d: 3, e: 3}, fire_of_event)
    assert (score.incidents_with_several_fires, score.fires_over_several_incidents) == (1, 1)
    perfect = score_clustering({a: 1, b: 1, c: 2, d: 2, e: 3}, fire_of_event)
    assert perfect == ClusteringScore(0, 0)


def test_the_workload_knows_which_fire_each_event_shows() -> None:
    workload = make_workload(fires=3, updates=1, seed=1)
    assert sorted(collections.Counter(workload.fire_of_event.values()).values()) == [2, 2, 2]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_with_an_earlier_runs_events_is_refused(
    database_url: str, sessions: sessionmaker[Session], locator: FakeLocator
) -> None:
    assert used_database_error(database_url) is None
    with sessions() as session:
        ingest_alert(session, alert(CABANELLE, azimuth_deg=240.0), locator)
        session.commit()
    error = used_database_error(database_url)
    assert error is not None
    assert "already holds 1 event(s)" in error
