"""Per-camera health: blind seconds, rates over the last interval, state, and the wire messages.

The reader thread counts frames (``ReaderStats``); the inference loop reports each analysis here;
the health loop ticks every camera about once a second to integrate blind time, and builds the
heartbeat (``CameraHealth`` counters) and the retained status (online / degraded / offline).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from contracts import CameraHealth, CameraState, CameraStatusMessage, HeartbeatMessage
from edge.ingest.reader import ReaderStats

MAX_REASON_CHARS = 500


class StatsSource(Protocol):
    def stats(self) -> ReaderStats: ...


def camera_state(stats: ReaderStats) -> tuple[CameraState, str]:
    """Offline: no stream (lost, unreachable, replay over). Degraded: frozen or stalled."""
    if stats.ended or not stats.connected:
        return CameraState.OFFLINE, stats.reason or "not connected"
    if stats.frozen:
        return CameraState.DEGRADED, stats.reason
    return CameraState.ONLINE, ""


class BlindClock:
    """Accumulates the seconds during which a camera gave no usable frame.

    Sampled by ``tick``: the error is at most one tick per outage (about 1 s).
    """

    def __init__(self, now_s: float) -> None:
        self._last_s = now_s
        self.blind_s = 0.0

    def tick(self, now_s: float, usable: bool) -> None:
        if not usable:
            self.blind_s += max(0.0, now_s - self._last_s)
        self._last_s = now_s


class CameraMonitor:
    """Health of one camera. ``record_analysis`` is called by the inference loop (any thread)."""

    def __init__(
        self,
        site_id: str,
        camera_id: str,
        reader: StatsSource,
        *,
        interval_s: float,
        stale_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.site_id = site_id
        self.camera_id = camera_id
        self._reader = reader
        self._interval_s = interval_s
        self._stale_after_s = stale_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._blind = BlindClock(clock())
        self._analysed = 0
        self._inference_ms: deque[tuple[float, float]] = deque()
        self._frames: deque[tuple[float, int]] = deque()
        self._stats = reader.stats()
        self._frames.append((clock(), self._stats.frames_read))

    def record_analysis(self, inference_ms: float | None) -> None:
        with self._lock:
            self._analysed += 1
            if inference_ms is not None:
                self._inference_ms.append((self._clock(), inference_ms))

    def tick(self) -> ReaderStats:
        """Sample the reader (about once a second): blind time and the frame-rate window."""
        now_s = self._clock()
        stats = self._reader.stats()
        age_s = stats.last_frame_age_s
        usable = (
            stats.connected
            and not stats.frozen
            and age_s is not None
            and age_s <= self._stale_after_s
        )
        with self._lock:
            self._stats = stats
            self._blind.tick(now_s, usable)
            self._frames.append((now_s, stats.frames_read))
            horizon_s = now_s - self._interval_s
            while len(self._frames) > 2 and self._frames[1][0] <= horizon_s:
                self._frames.popleft()
            while self._inference_ms and self._inference_ms[0][0] < horizon_s:
                self._inference_ms.popleft()
        return stats

    def state(self) -> tuple[CameraState, str]:
        with self._lock:
            return camera_state(self._stats)

    def health(self, outbox_depth: int, outbox_evicted: int) -> CameraHealth:
        """The counters as of the last tick; rates over the last ``interval_s``."""
        with self._lock:
            stats = self._stats
            (first_s, first_frames), (last_s, last_frames) = self._frames[0], self._frames[-1]
            span_s = last_s - first_s
            fps = (last_frames - first_frames) / span_s if span_s > 0 else 0.0
            samples = [ms for _, ms in self._inference_ms]
            return CameraHealth(
                frames_per_s=round(max(0.0, fps), 3),
                analysed_frames=self._analysed,
                skipped_frames=stats.skipped_frames,
                corrupt_frames=stats.corrupt_frames,
                last_frame_age_s=stats.last_frame_age_s,
                reconnects=stats.reconnects,
                blind_s=round(self._blind.blind_s, 3),
                frozen=stats.frozen,
                inference_ms=round(statistics.median(samples), 3) if samples else None,
                outbox_depth=outbox_depth,
                outbox_evicted=outbox_evicted,
            )

    def heartbeat(self, outbox_depth: int, outbox_evicted: int) -> HeartbeatMessage:
        return HeartbeatMessage(
            site_id=self.site_id,
            camera_id=self.camera_id,
            sent_at=datetime.now(UTC),
            interval_s=self._interval_s,
            health=self.health(outbox_depth, outbox_evicted),
        )

    def status(self) -> CameraStatusMessage:
        state, reason = self.state()
        return CameraStatusMessage(
            site_id=self.site_id,
            camera_id=self.camera_id,
            state=state,
            reason=reason[:MAX_REASON_CHARS],
            changed_at=datetime.now(UTC),
        )
