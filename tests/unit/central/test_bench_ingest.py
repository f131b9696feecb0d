"""The ingest benchmark's workload is valid contract traffic that clusters as intended."""

from __future__ import annotations

import json

import contracts
from benchmarks.ingest import CROP_SNAPSHOT_BYTES, FULL_SNAPSHOT_BYTES, make_workload


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
