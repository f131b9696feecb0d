"""Wires the edge worker together, runs it until the stop event, and shuts it down in order.

Threads: one reader per camera, one inference loop, one health loop, one MQTT publisher, and
optionally the metrics HTTP server. One ``threading.Event`` stops them all (SIGTERM/SIGINT set it);
every wait in every thread has a timeout, so each notices within about a second. Shutdown is
ordered so that nothing is lost: readers and the inference loop stop first (its last alerts go to
the outbox), then the publisher says goodbye (retained ``offline`` statuses) and disconnects.

A thread that dies is a bug: the supervisor logs it and exits non-zero so that the service
manager restarts the whole worker from its durable outbox.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType

from contracts import CameraState
from edge import config
from edge.detect import Detector
from edge.ingest.reader import CameraReader
from edge.ingest.sources import FrameSource, source_for
from edge.ptz import CameraControl, FixedMount, Patrol
from edge.publish.broker import Broker
from edge.publish.mqtt import MqttPublisher
from edge.publish.outbox import Outbox
from edge.runtime.health import CameraMonitor
from edge.runtime.metrics import MetricsServer, render_metrics
from edge.runtime.worker import CameraLane, CameraPipeline, InferenceLoop

logger = logging.getLogger(__name__)

HEALTH_TICK_S = 1.0
# A frame decoded at least this often feeds frozen detection even at a 10 s cadence.
MAX_SAMPLE_INTERVAL_S = 1.0
# A live camera without a new frame for this long is blind (a healthy one sends 5-25 frames/s).
LIVE_STALE_AFTER_S = 2.0
JOIN_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Options:
    broker: Broker
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None


@dataclass(frozen=True, slots=True)
class _Parts:
    """Everything one run of the worker starts, to be stopped in order."""

    outbox: Outbox
    publisher: MqttPublisher
    metrics: MetricsServer | None
    readers: list[threading.Thread]
    core: list[threading.Thread]  # the inference and health loops
    publisher_thread: threading.Thread


def _default_control(camera: config.Camera) -> CameraControl:
    return FixedMount()


class Supervisor:
    def __init__(
        self,
        edge_config: config.EdgeConfig,
        detector: Detector,
        options: Options,
        *,
        stop: threading.Event | None = None,
        make_source: Callable[[config.Camera], FrameSource] = source_for,
        make_control: Callable[[config.Camera], CameraControl] = _default_control,
    ) -> None:
        self._config = edge_config
        self._detector = detector
        self._options = options
        self.stop = stop or threading.Event()
        self._make_source = make_source
        self._make_control = make_control

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT set the stop event (call from the main thread)."""

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            logger.info("received %s: stopping", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    def run(self) -> int:
        """Run until the stop event (0), until every replay has ended (0), until a thread dies
        (1); 2 if the outbox or the metrics port cannot be opened."""
        path = self._config.outbox.path
        try:
            outbox = Outbox(path, self._config.outbox.max_alerts)
        except (sqlite3.Error, OSError) as error:
            logger.error("cannot open the outbox %s: %s", path, error)
            return 2
        parts = self._assemble(outbox)
        if parts.metrics is not None:
            try:
                parts.metrics.start()
            except OSError as error:
                logger.error("cannot serve metrics on %s: %s", self._options.metrics_port, error)
                outbox.close()
                return 2
        logger.info(
            "edge worker of site %s: %d cameras, model %s %s, outbox %s (%d waiting)",
            self._config.site.id,
            len(parts.readers),
            self._detector.model_info.name,
            self._detector.model_info.version,
            path,
            outbox.depth(),
        )
        for thread in [parts.publisher_thread, *parts.core, *parts.readers]:
            thread.start()
        exit_code = self._watch(parts.readers, [*parts.core, parts.publisher_thread])
        self._shut_down(parts)
        return exit_code

    def _assemble(self, outbox: Outbox) -> _Parts:
        publisher = MqttPublisher(self._options.broker, outbox, self._config.site.id)
        readers, lanes = self._build_cameras()
        monitors = [lane.monitor for lane in lanes]
        loop = InferenceLoop(lanes, self._detector, outbox, self.stop)
        metrics = None
        if self._options.metrics_port is not None:
            metrics = MetricsServer(
                self._options.metrics_host,
                self._options.metrics_port,
                lambda: render_metrics(monitors, outbox, publisher.stats()),
            )
        return _Parts(
            outbox=outbox,
            publisher=publisher,
            metrics=metrics,
            readers=[
                threading.Thread(target=r.run, name=f"reader-{r.camera_id}", daemon=True)
                for r in readers
            ],
            core=[
                threading.Thread(target=loop.run, name="inference", daemon=True),
                threading.Thread(
                    target=self._health_loop,
                    args=(monitors, outbox, publisher),
                    name="health",
                    daemon=True,
                ),
            ],
            publisher_thread=threading.Thread(target=publisher.run, name="mqtt", daemon=True),
        )

    def _shut_down(self, parts: _Parts) -> None:
        """Readers and the inference loop first (its last alerts reach the outbox), then the
        publisher (goodbye statuses, what it can deliver in time), then the files."""
        self.stop.set()
        for thread in [*parts.readers, *parts.core]:
            thread.join(JOIN_TIMEOUT_S)
        parts.publisher.close()
        parts.publisher_thread.join(JOIN_TIMEOUT_S)
        if parts.metrics is not None:
            parts.metrics.close()
        parts.outbox.close()
        threads = [*parts.readers, *parts.core, parts.publisher_thread]
        stuck = [thread.name for thread in threads if thread.is_alive()]
        if stuck:
            logger.error("threads still running at exit: %s", ", ".join(stuck))
        logger.info("edge worker stopped")

    def _build_cameras(self) -> tuple[list[CameraReader], list[CameraLane]]:
        readers: list[CameraReader] = []
        lanes: list[CameraLane] = []
        for camera in self._config.cameras:
            source = self._make_source(camera)
            reader = CameraReader(
                camera.id,
                source,
                Patrol(camera.id, camera.poses, self._make_control(camera)),
                self.stop,
                sample_interval_s=min(camera.cadence_s, MAX_SAMPLE_INTERVAL_S),
                frozen_after_s=camera.frozen_after_s,
            )
            interval_s = source.frame_interval_s
            monitor = CameraMonitor(
                self._config.site.id,
                camera.id,
                reader,
                interval_s=self._config.heartbeat_interval_s,
                stale_after_s=max(LIVE_STALE_AFTER_S, 2.0 * (interval_s or 0.0)),
            )
            pipeline = CameraPipeline(self._config.site, camera, self._detector.model_info)
            readers.append(reader)
            lanes.append(CameraLane(reader, pipeline, monitor))
        return readers, lanes

    def _watch(
        self, reader_threads: Sequence[threading.Thread], others: Sequence[threading.Thread]
    ) -> int:
        while not self.stop.wait(HEALTH_TICK_S):
            dead = [thread.name for thread in others if not thread.is_alive()]
            if dead:
                logger.critical("thread died: %s; stopping", ", ".join(dead))
                return 1
            if not any(thread.is_alive() for thread in reader_threads):
                logger.info("every source has ended: stopping")
                return 0
        return 0

    def _health_loop(
        self, monitors: Sequence[CameraMonitor], outbox: Outbox, publisher: MqttPublisher
    ) -> None:
        """Status on every change of state, heartbeat every ``heartbeat_interval_s``."""
        states: dict[str, CameraState] = {}
        interval_s = self._config.heartbeat_interval_s
        next_heartbeat_s = time.monotonic() + interval_s
        while not self.stop.wait(HEALTH_TICK_S):
            for monitor in monitors:
                monitor.tick()
                status = monitor.status()
                if states.get(monitor.camera_id) is not status.state:
                    states[monitor.camera_id] = status.state
                    log = logger.info if status.state is CameraState.ONLINE else logger.warning
                    log("camera %s: %s %s", monitor.camera_id, status.state.value, status.reason)
                    publisher.set_status(status)
            if time.monotonic() >= next_heartbeat_s:
                next_heartbeat_s += interval_s
                depth, evicted = outbox.depth(), outbox.evicted
                for monitor in monitors:
                    publisher.send_heartbeat(monitor.heartbeat(depth, evicted))
