"""Optional Prometheus ``/metrics`` (text format 0.0.4) over the standard library's HTTP server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from contracts import CameraState
from edge.publish.mqtt import PublisherStats
from edge.publish.outbox import Outbox
from edge.runtime.health import CameraMonitor

logger = logging.getLogger(__name__)

_CAMERA_GAUGES: tuple[tuple[str, str, str], ...] = (
    # (metric, CameraHealth field, help)
    ("vigifeu_edge_frames_per_second", "frames_per_s", "Frames read per second, last interval"),
    ("vigifeu_edge_analysed_frames_total", "analysed_frames", "Frames run through the detector"),
    ("vigifeu_edge_skipped_frames_total", "skipped_frames", "Frames read but not analysed"),
    ("vigifeu_edge_corrupt_frames_total", "corrupt_frames", "Frames that did not decode"),
    ("vigifeu_edge_reconnects_total", "reconnects", "Stream reconnections"),
    ("vigifeu_edge_blind_seconds_total", "blind_s", "Seconds without a usable frame"),
    ("vigifeu_edge_last_frame_age_seconds", "last_frame_age_s", "Age of the newest frame"),
    ("vigifeu_edge_frozen", "frozen", "1 when the picture or the stream is frozen"),
    ("vigifeu_edge_inference_milliseconds", "inference_ms", "Median inference time per frame"),
)


def _kind(metric: str) -> str:
    return "counter" if metric.endswith("_total") else "gauge"


def render_metrics(
    monitors: Sequence[CameraMonitor], outbox: Outbox, publisher: PublisherStats
) -> str:
    depth, evicted = outbox.depth(), outbox.evicted
    healths = [(monitor, monitor.health(depth, evicted)) for monitor in monitors]
    lines: list[str] = []
    for metric, attribute, help_text in _CAMERA_GAUGES:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {_kind(metric)}"]
        for monitor, health in healths:
            value = getattr(health, attribute)
            if value is not None:
                lines.append(f'{metric}{{camera="{monitor.camera_id}"}} {float(value):g}')
    lines += [
        "# HELP vigifeu_edge_camera_state 1 for the camera's current state",
        "# TYPE vigifeu_edge_camera_state gauge",
    ]
    for monitor, _ in healths:
        current, _reason = monitor.state()
        for state in CameraState:
            flag = 1 if state is current else 0
            lines.append(
                f'vigifeu_edge_camera_state{{camera="{monitor.camera_id}",state="{state.value}"}} {flag}'
            )
    for metric, value, help_text in (
        ("vigifeu_edge_outbox_depth", depth, "Alerts stored, not yet acknowledged"),
        ("vigifeu_edge_outbox_evicted_total", evicted, "Alerts evicted from a full outbox"),
        ("vigifeu_edge_mqtt_connected", int(publisher.connected), "1 when connected"),
        ("vigifeu_edge_mqtt_connections_total", publisher.connections, "MQTT connections made"),
        (
            "vigifeu_edge_alerts_acknowledged_total",
            publisher.alerts_acknowledged,
            "PUBACKed alerts",
        ),
        (
            "vigifeu_edge_alerts_rejected_total",
            publisher.alerts_rejected,
            "Alerts the broker refused",
        ),
    ):
        lines += [
            f"# HELP {metric} {help_text}",
            f"# TYPE {metric} {_kind(metric)}",
            f"{metric} {value}",
        ]
    return "\n".join(lines) + "\n"


class MetricsServer:
    """Serves ``render()`` at GET /metrics from a daemon thread; ``close()`` stops it."""

    def __init__(self, host: str, port: int, render: Callable[[], str]) -> None:
        self._address = (host, port)
        self._render = render
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve; raises OSError if the port is taken."""
        render = self._render

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = render().encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                logger.debug("metrics request: %s", format % args)

        self._server = ThreadingHTTPServer(self._address, Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="metrics",
            daemon=True,
        )
        self._thread.start()
        logger.info("metrics at http://%s:%d/metrics", self._address[0], self.port)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._server.server_address[1]) if self._server else self._address[1]

    def close(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)
