"""``vigifeu edge``: run the edge worker of one camera site.

    vigifeu edge --config camera_configs/SITE.yaml --mqtt mqtt://HOST:PORT [--metrics-port 9108]

Broker credentials come from VIGIFEU_MQTT_USERNAME and VIGIFEU_MQTT_PASSWORD. Everything is
checked before the first thread starts: a bad file, camera, replay path, model or broker URL
exits with status 2 and a message naming the file, the camera and the field.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from edge import config
from edge.detect.onnx_detector import open_detector
from edge.detect.registry import RegistryError
from edge.publish.broker import parse_broker_url
from edge.runtime.supervisor import Options, Supervisor

logger = logging.getLogger(__name__)

EXIT_BAD_SETUP = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="camera_configs/SITE.yaml")
    parser.add_argument(
        "--mqtt",
        required=True,
        metavar="URL",
        help="mqtt://HOST:PORT or mqtts://HOST:PORT (credentials: VIGIFEU_MQTT_USERNAME/PASSWORD)",
    )
    parser.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus /metrics on this port"
    )
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address for /metrics")


def check_replay_paths(edge_config: config.EdgeConfig, path: Path) -> None:
    """Replay sources must exist at start (a live camera may be down: it is retried)."""
    for camera in edge_config.cameras:
        source = camera.source
        if isinstance(source, config.VideoFileSource) and not source.path.is_file():
            raise config.ConfigError(
                f"{path}: camera {camera.id!r} field 'source.path': no such video file "
                f"{source.path}"
            )
        if isinstance(source, config.ImageFolderSource) and not source.path.is_dir():
            raise config.ConfigError(
                f"{path}: camera {camera.id!r} field 'source.path': no such folder {source.path}"
            )


def run(args: argparse.Namespace) -> int:
    try:
        edge_config = config.load_config(args.config)
        check_replay_paths(edge_config, args.config)
        broker = parse_broker_url(
            args.mqtt,
            os.environ.get("VIGIFEU_MQTT_USERNAME"),
            os.environ.get("VIGIFEU_MQTT_PASSWORD"),
        )
    except (config.ConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201 - command output
        return EXIT_BAD_SETUP
    score_floor = min(camera.thresholds.detection_score for camera in edge_config.cameras)
    try:
        detector = open_detector(edge_config.detector, score_floor)
    except RegistryError as error:
        print(f"error: {args.config}: field 'detector.model': {error}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_SETUP
    supervisor = Supervisor(
        edge_config,
        detector,
        Options(broker=broker, metrics_host=args.metrics_host, metrics_port=args.metrics_port),
    )
    supervisor.install_signal_handlers()
    return supervisor.run()
