"""Memory and CPU of the edge worker per camera, at a 10 s analysis cadence.

    python -m benchmarks.edge_footprint --cameras 1 4 --duration-s 60

Runs ``vigifeu edge`` as a subprocess once per camera count, each camera a replay of the same
clip (looped at the clip's frame rate, like a live camera), against a throw-away Mosquitto. After
a warm-up it samples the process's resident memory (VmRSS) and CPU time (utime + stime, all
threads) from /proc once a second. The per-camera cost is the slope between the smallest and the
largest camera count, so the fixed cost (Python, onnxruntime, the model) is reported apart.

The model is the registry's default when ``models/registry.yaml`` exists; otherwise the tiny
test detector (same input size and output shape as the production model, far fewer FLOPs), which
the report says. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO_ROOT / "datasets" / "samples" / "figlib_rm-w-mobo-c_20180728.mp4"
DEFAULT_REGISTRY = REPO_ROOT / "models" / "registry.yaml"
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True, slots=True)
class Footprint:
    cameras: int
    rss_mean_mib: float
    rss_peak_mib: float
    cpu_percent_of_one_core: float  # CPU seconds / wall seconds x 100, over the sampled window
    sampled_s: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/statm", encoding="ascii") as stream:
        return int(stream.read().split()[1]) * PAGE_KIB


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
        fields = stream.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); index 0 here is field 3.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def _site(cameras: int, clip: Path, cadence_s: float, registry: Path, work: Path) -> Path:
    config: dict[str, Any] = {
        "site": {
            "id": "bench",
            "latitude_deg": 43.7,
            "longitude_deg": 7.0,
            "ground_altitude_m": 800,
        },
        "detector": {"model": "default", "registry": str(registry), "threads": 1},
        "outbox": {"path": str(work / f"outbox-{cameras}.sqlite3")},
        "heartbeat_interval_s": 30,
        "cameras": [
            {
                "id": f"cam-{index}",
                "source": {"kind": "video", "path": str(clip), "loop": True},
                "heading_deg": 90 * index % 360,
                "hfov_deg": 87,
                "vfov_deg": 44,
                "cadence_s": cadence_s,
            }
            for index in range(cameras)
        ],
    }
    path = work / f"site-{cameras}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _tiny_registry(work: Path) -> Path:
    from edge.detect.registry import file_sha256
    from tests.support.tiny_model import build_tiny_detector

    model = build_tiny_detector(work / "tiny.onnx")
    registry = work / "registry.yaml"
    entry = {
        "name": "tiny",
        "version": "test",
        "file": model.name,
        "sha256": file_sha256(model),
        "input_size": 320,
        "classes": ["smoke", "fire"],
        "thresholds": {"score": 0.5, "iou": 0.45},
        "format": "onnx-fp32",
        "training_data": "none",
        "licence": "AGPL-3.0-or-later",
    }
    registry.write_text(yaml.safe_dump({"default": "tiny", "models": [entry]}))
    return registry


def measure(
    site: Path, cameras: int, mqtt_url: str, warmup_s: float, duration_s: float
) -> Footprint:
    vigifeu = Path(sys.executable).with_name("vigifeu")
    log = site.with_suffix(".log").open("wb")
    process = subprocess.Popen(
        [str(vigifeu), "edge", "--config", str(site), "--mqtt", mqtt_url],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(warmup_s)
        if process.poll() is not None:
            raise RuntimeError(f"vigifeu edge exited with {process.returncode}: see {log.name}")
        start_cpu_s, start_wall_s = _cpu_s(process.pid), time.monotonic()
        rss: list[int] = []
        while time.monotonic() - start_wall_s < duration_s:
            rss.append(_rss_kib(process.pid))
            time.sleep(1.0)
        cpu_s, wall_s = _cpu_s(process.pid) - start_cpu_s, time.monotonic() - start_wall_s
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    return Footprint(
        cameras=cameras,
        rss_mean_mib=round(sum(rss) / len(rss) / 1024, 1),
        rss_peak_mib=round(max(rss) / 1024, 1),
        cpu_percent_of_one_core=round(100 * cpu_s / wall_s, 2),
        sampled_s=round(wall_s, 1),
    )


def _start_broker(work: Path) -> tuple[subprocess.Popen[bytes] | None, str]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = _free_port()
    if not Path(binary).exists():
        logger.warning("no mosquitto: the edge runs without a broker (it keeps retrying)")
        return None, f"mqtt://127.0.0.1:{port}"
    config = work / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(0.5)
    return broker, f"mqtt://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--cadence-s", type=float, default=10.0)
    parser.add_argument("--duration-s", type=float, default=60.0, help="sampled time per run")
    parser.add_argument("--warmup-s", type=float, default=10.0)
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    with tempfile.TemporaryDirectory(prefix="edge-footprint-") as folder:
        work = Path(folder)
        registry = args.registry if args.registry.exists() else _tiny_registry(work)
        model = "registry default" if args.registry.exists() else "tiny test detector"
        broker, mqtt_url = _start_broker(work)
        try:
            results = []
            for cameras in sorted(set(args.cameras)):
                site = _site(cameras, args.clip, args.cadence_s, registry, work)
                logger.info("measuring %d camera(s) for %.0f s", cameras, args.duration_s)
                results.append(measure(site, cameras, mqtt_url, args.warmup_s, args.duration_s))
        finally:
            if broker is not None:
                broker.terminate()
                broker.wait(timeout=10)

    low, high = results[0], results[-1]
    span = high.cameras - low.cameras
    report = {
        "model": model,
        "clip": str(args.clip),
        "cadence_s": args.cadence_s,
        "cpu_count": os.cpu_count(),
        "runs": [asdict(result) for result in results],
        "per_camera": None
        if span == 0
        else {
            "rss_mib": round((high.rss_mean_mib - low.rss_mean_mib) / span, 1),
            "cpu_percent_of_one_core": round(
                (high.cpu_percent_of_one_core - low.cpu_percent_of_one_core) / span, 2
            ),
        },
    }
    text = json.dumps(report, indent=2)
    if args.output is not None:
        args.output.write_text(text + "\n")
    print(text)  # noqa: T201 - the benchmark's output
    return 0


if __name__ == "__main__":
    sys.exit(main())
