"""Health counters: state rules, blind seconds, rates over the interval, wire messages."""

from __future__ import annotations

import pytest

from contracts import CameraState, MessageKind, decode_message, encode_message, topic_for
from edge.ingest.reader import ReaderStats
from edge.runtime.health import BlindClock, CameraMonitor, camera_state


def stats(**changes: object) -> ReaderStats:
    fields: dict[str, object] = {
        "connected": True,
        "ended": False,
        "frames_read": 0,
        "skipped_frames": 0,
        "corrupt_frames": 0,
        "reconnects": 0,
        "last_frame_age_s": 0.1,
        "frozen": False,
        "reason": "",
    }
    fields.update(changes)
    return ReaderStats(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        (stats(), (CameraState.ONLINE, "")),
        (stats(connected=False, reason="stream lost"), (CameraState.OFFLINE, "stream lost")),
        (stats(connected=False), (CameraState.OFFLINE, "not connected")),
        (
            stats(connected=False, ended=True, reason="replay ended"),
            (CameraState.OFFLINE, "replay ended"),
        ),
        (stats(frozen=True, reason="frozen: x"), (CameraState.DEGRADED, "frozen: x")),
    ],
)
def test_camera_state(reader: ReaderStats, expected: tuple[CameraState, str]) -> None:
    assert camera_state(reader) == expected


def test_blind_clock_counts_only_unusable_time() -> None:
    clock = BlindClock(0.0)
    for now_s, usable in [(1.0, True), (2.0, False), (3.5, False), (4.0, True), (5.0, False)]:
        clock.tick(now_s, usable)
    assert clock.blind_s == pytest.approx(1.0 + 1.5 + 1.0)


class FakeReader:
    def __init__(self) -> None:
        self.current = stats()

    def stats(self) -> ReaderStats:
        return self.current


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def make_monitor(reader: FakeReader, clock: FakeClock) -> CameraMonitor:
    return CameraMonitor("site", "cam-a", reader, interval_s=10.0, stale_after_s=2.0, clock=clock)


def test_monitor_rates_are_over_the_last_interval() -> None:
    reader, clock = FakeReader(), FakeClock()
    monitor = make_monitor(reader, clock)
    for second in range(1, 31):
        clock.now_s = float(second)
        # 5 frames/s for 20 s, then 15 frames/s
        reader.current = stats(frames_read=5 * min(second, 20) + 15 * max(0, second - 20))
        monitor.tick()
        monitor.record_analysis(100.0 if second <= 20 else 40.0 + second % 3)
    health = monitor.health(outbox_depth=3, outbox_evicted=1)
    assert health.frames_per_s == pytest.approx(15.0)
    assert health.inference_ms == pytest.approx(41.0)  # median of the last 10 s only
    assert health.analysed_frames == 30
    assert (health.outbox_depth, health.outbox_evicted) == (3, 1)
    assert health.blind_s == 0.0


def test_monitor_counts_blind_time_when_offline_frozen_or_stale() -> None:
    reader, clock = FakeReader(), FakeClock()
    monitor = make_monitor(reader, clock)
    timeline = [
        stats(),  # 1 s: fine
        stats(connected=False, last_frame_age_s=None),  # 2 s: offline
        stats(frozen=True),  # 3 s: frozen
        stats(last_frame_age_s=5.0),  # 4 s: connected but the last frame is stale
        stats(),  # 5 s: fine
    ]
    for second, reader.current in enumerate(timeline, start=1):
        clock.now_s = float(second)
        monitor.tick()
    assert monitor.health(0, 0).blind_s == pytest.approx(3.0)


def test_heartbeat_and_status_are_valid_wire_messages() -> None:
    reader, clock = FakeReader(), FakeClock()
    monitor = make_monitor(reader, clock)
    reader.current = stats(connected=False, reason="cannot open: x" * 100)
    monitor.tick()
    heartbeat = monitor.heartbeat(0, 0)
    status = monitor.status()
    for kind, message in ((MessageKind.HEARTBEAT, heartbeat), (MessageKind.STATUS, status)):
        _, decoded = decode_message(topic_for("site", "cam-a", kind), encode_message(message))
        assert decoded == message
    assert heartbeat.health.last_frame_age_s == 0.1
    assert status.state is CameraState.OFFLINE
    assert len(status.reason) == 500  # capped to the contract's limit
