"""``vigifeu demo``: the whole chain on one machine, from a real RTSP camera to the console.

It starts, each as its own process: Mosquitto, a GStreamer RTSP server looping the bundled FIgLib
ignition clip (``datasets/samples``), the central service (SQLite) and an edge worker watching
that camera with the current default model. Ctrl-C stops everything, children first.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from edge.config import Thresholds
from edge.detect.registry import DEFAULT_NAME, load_registry

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
CLIP = REPO_ROOT / "datasets" / "samples" / "figlib_rm-w-mobo-c_20180728.mp4"
RTSP_SERVER = REPO_ROOT / "deploy" / "rtsp_replay_server.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")  # Debian's, with python3-gi for GStreamer
# The demo's console account; a real deployment sets its own (see docs/console.md).
DEMO_LOGIN = ("operateur", "demo-vigifeu")
SYSTEM_PACKAGES_HINT = "sudo deploy/install-system-deps.sh   (mosquitto, GStreamer RTSP server)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s")


def _missing_system_tools() -> list[str]:
    missing = []
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        missing.append("mosquitto")
    gi_check = [str(SYSTEM_PYTHON), "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"]
    if not SYSTEM_PYTHON.exists() or subprocess.run(gi_check, capture_output=True).returncode:
        missing.append("GStreamer RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0)")
    return missing


def demo_site_config(rtsp_url: str, workdir: Path) -> dict[str, object]:
    """A one-camera site on the cabanelle lookout watching the replayed clip.

    The clip comes from an HPWREN camera in California; the demo pretends it is cabanelle's
    west camera so that the chain (location, commune, DFCI square) has real 06 terrain to use.
    Thresholds follow the default model's registered operating point, whatever model is current:
    a box counts from that score, and an event needs about half of the window at it.
    """
    registry = REPO_ROOT / "models" / "registry.yaml"
    model = load_registry(registry).get(DEFAULT_NAME)
    thresholds = Thresholds.at_operating_point(model.thresholds.score, window_frames=3)
    return {
        "site": {
            "id": "demo-cabanelle",
            "name": "Démo (clip FIgLib rejoué)",
            "latitude_deg": 43.7866472,
            "longitude_deg": 7.419608279,
            "ground_altitude_m": 1068,
            "mast_height_m": 12,
        },
        "detector": {
            "model": "default",
            "registry": str(registry),
            "threads": 1,
        },
        "outbox": {"path": str(workdir / "edge-outbox.sqlite3")},
        "heartbeat_interval_s": 10,
        "cameras": [
            {
                "id": "cam-250",
                "name": "Rejeu FIgLib 2018-07-28 (HPWREN)",
                "source": {"kind": "rtsp", "url": rtsp_url},
                "heading_deg": 250,
                "tilt_deg": -2.0,
                "hfov_deg": 87,
                "vfov_deg": 44,
                # The clip shows one minute of real time per second: analyse a frame every 2 s.
                "cadence_s": 2.0,
                "thresholds": {
                    **thresholds.model_dump(
                        include={"detection_score", "window_frames", "confirm_score"}
                    ),
                    "update_interval_s": 20,
                    "end_after_s": 60,
                },
            }
        ],
    }


class _Children:
    """Processes started by the demo, stopped in reverse order."""

    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self, name: str, command: list[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as sink:
            process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.processes.append((name, process))
        logger.info("started %s (pid %d), log %s", name, process.pid, log)
        return process

    def first_exited(self) -> tuple[str, int] | None:
        for name, process in self.processes:
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop_all(self, timeout_s: float = 10.0) -> None:
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    logger.warning("%s did not stop within %.0f s, killing it", name, timeout_s)
                    process.kill()
                    process.wait(timeout=timeout_s)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="console and API port")
    parser.add_argument("--workdir", type=Path, default=Path("var/demo"))
    parser.add_argument(
        "--duration-s",
        type=float,
        default=None,
        help="stop by itself after this long (tests); default: until Ctrl-C",
    )


def run(args: argparse.Namespace) -> int:
    missing = _missing_system_tools()
    if missing:
        hint = f"missing: {', '.join(missing)}\ninstall with: {SYSTEM_PACKAGES_HINT}"
        print(hint, file=sys.stderr)  # noqa: T201 - command output
        return 2
    workdir: Path = args.workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    children = _Children()
    stop = {"requested": False}

    def request_stop(_signum: int, _frame: object) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        mqtt_port, rtsp_port = _free_port(), _free_port()
        broker_dir = workdir / "mosquitto"
        broker_dir.mkdir()
        (broker_dir / "mosquitto.conf").write_text(
            f"listener {mqtt_port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        broker = children.start(
            "mosquitto",
            [
                shutil.which("mosquitto") or "/usr/sbin/mosquitto",
                "-c",
                str(broker_dir / "mosquitto.conf"),
            ],
            workdir / "mosquitto.log",
        )
        _wait_for_port(mqtt_port, broker, 10)
        camera = children.start(
            "rtsp-camera",
            [str(SYSTEM_PYTHON), str(RTSP_SERVER), str(CLIP), "--port", str(rtsp_port)],
            workdir / "rtsp.log",
        )
        _wait_for_port(rtsp_port, camera, 20)
        site_file = workdir / "site.yaml"
        site_file.write_text(
            yaml.safe_dump(
                demo_site_config(f"rtsp://127.0.0.1:{rtsp_port}/cam", workdir), sort_keys=False
            )
        )
        vigifeu = [sys.executable, "-m", "vigifeu.cli"]
        mqtt_url = f"mqtt://127.0.0.1:{mqtt_port}"
        env = {
            **os.environ,
            "VIGIFEU_SECRET_KEY": "demo-only-secret-key-not-for-production",
            "VIGIFEU_ADMIN_USERNAME": DEMO_LOGIN[0],
            "VIGIFEU_ADMIN_PASSWORD": DEMO_LOGIN[1],
            "VIGIFEU_PUBLIC_URL": f"http://127.0.0.1:{args.port}",
        }
        central = children.start(
            "central",
            [
                *vigifeu,
                "central",
                "--db",
                f"sqlite:///{workdir / 'vigifeu.sqlite3'}",
                "--mqtt",
                mqtt_url,
                "--host",
                "127.0.0.1",
                "--port",
                str(args.port),
            ],
            workdir / "central.log",
            env,
        )
        _wait_for_port(args.port, central, 60)
        children.start(
            "edge",
            [*vigifeu, "edge", "--config", str(site_file), "--mqtt", mqtt_url],
            workdir / "edge.log",
            env,
        )
        print(  # noqa: T201 - what the user came for
            f"\nvigifeu demo is running\n"
            f"  console:   http://127.0.0.1:{args.port}/  (login {DEMO_LOGIN[0]} / {DEMO_LOGIN[1]})\n"
            f"  incidents: http://127.0.0.1:{args.port}/api/v1/incidents\n"
            f"  camera:    rtsp://127.0.0.1:{rtsp_port}/cam (FIgLib clip, HPWREN / UC San Diego)\n"
            f"  logs:      {workdir}/*.log\nCtrl-C stops everything.\n",
            flush=True,
        )
        deadline = None if args.duration_s is None else time.monotonic() + args.duration_s
        while not stop["requested"] and (deadline is None or time.monotonic() < deadline):
            exited = children.first_exited()
            if exited:
                logger.error(
                    "%s exited with %d; see %s/%s.log", exited[0], exited[1], workdir, exited[0]
                )
                return 1
            time.sleep(0.5)
        return 0
    finally:
        children.stop_all()
