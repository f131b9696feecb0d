"""Real services for integration tests, each on a free loopback port with its own files.

Mosquitto, a throw-away PostgreSQL cluster and a GStreamer RTSP camera. Each can be stopped and
started again (outage tests) and is always stopped at the end of its fixture.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CLIP = REPO_ROOT / "datasets" / "samples" / "figlib_rm-w-mobo-c_20180728.mp4"
SYSTEM_PYTHON = "/usr/bin/python3"  # has Debian's python3-gi for the RTSP server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, timeout_s: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before port {port} opened"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} not open after {timeout_s} s")


def _stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Mosquitto:
    """A real broker on 127.0.0.1:<port>; persistence on, so a restart keeps queued sessions.

    ``settings`` replaces the test settings below (the listener and the user stay the test's).
    """

    def __init__(self, workdir: Path, port: int | None = None, settings: str | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            # Started as root, mosquitto drops to user "mosquitto" by default, which cannot enter
            # pytest's private (0700) folders: every save of its persistence file failed, so a
            # restart lost the sessions it was meant to keep. It stays the user running the tests.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"
            "log_dest stdout\n"
            + (
                settings
                if settings is not None
                else "allow_anonymous true\n"
                "persistence true\n"
                f"persistence_location {workdir}/\n"
                "autosave_interval 1\n"
                "max_queued_messages 100000\n"
            )
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen([binary, "-c", str(self.config)], stdout=log, stderr=log)
        wait_for_port(self.port, 10, self.process)

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


class Postgres:
    """A throw-away PostgreSQL cluster (initdb refuses root, so it runs as user postgres)."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
        self.workdir = Path(tempfile.mkdtemp(prefix="vigifeu-pg-"))
        self.bindir = self._find_bindir()

    @staticmethod
    def _find_bindir() -> Path:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
        if not candidates:
            raise FileNotFoundError("PostgreSQL server binaries not found (apt install postgresql)")
        return candidates[0].parent

    def _run(self, *command: str) -> None:
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.workdir, user.pw_uid, user.pw_gid)
        data = self.workdir / "data"
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.workdir / "log"),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.workdir / "data"),
                "-m",
                "immediate",
                "stop",
            )
        shutil.rmtree(self.workdir, ignore_errors=True)


class RtspCamera:
    """A GStreamer RTSP server looping a clip as a live camera at rtsp://127.0.0.1:<port>/cam."""

    def __init__(self, clip: Path = SAMPLE_CLIP, fps: int = 5, port: int | None = None) -> None:
        self.clip = clip
        self.fps = fps
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                SYSTEM_PYTHON,
                str(REPO_ROOT / "deploy" / "rtsp_replay_server.py"),
                str(self.clip),
                "--port",
                str(self.port),
                "--fps",
                str(self.fps),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 15, self.process)

    def kill(self) -> None:
        _stop(self.process, signal.SIGKILL)
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP: the server hangs with its sockets open (a frozen camera)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        _stop(self.process)
        self.process = None


@contextlib.contextmanager
def running(service: Mosquitto | Postgres | RtspCamera) -> Iterator[None]:
    service.start()
    try:
        yield
    finally:
        service.stop()
