"""``vigifeu bench ingest``: central's ingest rate against the raw broker rate, same run, same load.

Workload: simulated fires on land between Grasse and Menton, each seen by two of the three
real lookout sites of the 06 (cabanelle, courmettes, valbonne; six fixed 87 deg cameras per site,
60 deg apart, lenses 10 m above the DEM) with a line of sight on the committed DEM; the box of
each sighting stands where the camera model images the fire's true direction (azimuth and
apparent elevation), a new fire every 5 min. That is a stress case for clustering too: two fires
always burn at once, often a few km apart in the same direction from one site, and the
publishers (one per topic, as fast as they can) deliver each camera's alerts in capture order
but the cameras out of step with each other. Clustering is scored against the simulated fires:
incidents holding several fires (a fire hidden in another's incident) and fires split over
several incidents (duplicates). Harder than the field: a new fire every 5 min in one 30 x 35 km
area for hours (``--fire-spacing-s``), so one camera often sees two at once, each as its own
event as the edge reports them (one event per plume). Each camera's
event is a start, ``--updates`` updates 60 s apart (the edge's minimum update interval) with a
box that drifts, and an end. Start and update alerts carry a full
frame and a crop snapshot of the sizes the edge measured (45 kB and 15 kB), as real alerts do.

Measured, in this order on one broker:

0. a raw run, not counted: a fresh broker's first run was 20-40 % slower than the next
   (8 benchmark runs, 2026-11-30), and counting it flattered central's ratio;
1. raw: ``mosquitto_sub -C N`` receives what one ``mosquitto_pub -l`` per camera publishes
   (QoS 1 both ways): Mosquitto's own C clients, the ceiling of the broker on this machine.
   Raw runs use topics outside central's subscription, so central never takes a share;
2. central: a real ``vigifeu central`` process (storage, clustering and geolocation on) consumes
   the same publishers' messages, from the first publish until it has committed (and so may
   acknowledge) all N; the CPU time it used is reported too, since the machine is shared;
3. latency: single alerts published one at a time into an idle central, until stored (p50/p95);
4. raw again; the ratio uses the mean of both raw runs (the machine is shared).

Also reported: how fast contract validation alone runs in one Python process on the same
messages, the ceiling of one instance; ``--instances`` runs several central processes in the
shared subscription group (they split the load, each on its own core when there is one).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod
from sqlalchemy import make_url, select

import contracts
from central.db import Event, make_engine
from central.geo import load_geodata
from central.geo.camera_model import CameraModel
from central.geo.raymarch import Eye, apparent_elevation_deg, line_of_sight

logger = logging.getLogger(__name__)

GEOD = Geod(ellps="WGS84")
SITES = {  # (latitude, longitude) from shared/geodata/poi/pyronear_camera_sites.geojson
    "cabanelle": (43.7866472, 7.419608279),
    "courmettes": (43.71559208, 7.026486331),
    "valbonne": (43.6233636, 7.02793957),
}
MAST_M = 10.0  # lens above the DEM's ground (the DEM, not the site's listed height: the locator
# casts its rays over the DEM, and an eye under it sees nothing)
MIN_FIRE_GROUND_M = 20.0  # land only: SRTM writes the sea as 0 m
CAMERA_HEADINGS_DEG = (0, 60, 120, 180, 240, 300)
HFOV_DEG, VFOV_DEG = 87.0, 44.0
IMAGE_WIDTH_PX, IMAGE_HEIGHT_PX = 1920, 1080
FULL_SNAPSHOT_BYTES, CROP_SNAPSHOT_BYTES = 45_000, 15_000
MODEL = contracts.ModelInfo(name="vigifeu-smoke", version="bench", sha256="0" * 64)
T0 = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
UPDATE_INTERVAL_S = 60.0
FIRE_SPACING_S = 300.0  # a new fire every 5 min of capture time: two burning at once
TILT_DEG = -2.0
SMOKE_BASE_ABOVE_GROUND_M = 0.0
STEP_TIMEOUT_S = 600.0
# Asking central for its counters costs it ~10 ms of CPU (same process as ingest; a 10 Hz
# poll took ~10 % of it), so the wait halves the estimated remaining time between polls: about
# ten polls per run, and the end is seen within MIN_POLL_S.
MIN_POLL_S, MAX_POLL_S = 0.02, 1.0
LATENCY_POLL_S = 0.005  # central is idle then; the poll sets the resolution
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
RAW_TOPIC_ROOT = "bench-raw/"
# Issue 6 target: central ingest sustains at least half the raw broker rate.
TARGET_RATIO = 0.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="folder for metrics.json")
    parser.add_argument("--fires", type=int, default=60, help="each gives 2 x (updates + 2) alerts")
    parser.add_argument("--updates", type=int, default=8, help="updates per camera event")
    parser.add_argument(
        "--fire-spacing-s",
        type=float,
        default=FIRE_SPACING_S,
        help="capture time between two fires' starts (each burns 60 s x updates)",
    )
    parser.add_argument(
        "--db", help="database URL for central, an empty database (default: a fresh SQLite file)"
    )
    parser.add_argument("--latency-alerts", type=int, default=20)
    parser.add_argument(
        "--instances", type=int, default=1, help="central processes sharing the subscription"
    )
    parser.add_argument("--seed", type=int, default=0)


@dataclass(frozen=True, slots=True)
class Workload:
    lines: dict[str, list[str]]  # topic -> JSON payloads, in capture order
    count: int
    mean_payload_bytes: float
    fire_of_event: dict[uuid.UUID, int]  # the truth that clustering is scored against


def _snapshot(
    rng: np.random.Generator, size: int, kind: contracts.SnapshotKind
) -> contracts.Snapshot:
    # Random bytes are as incompressible as a JPEG; central never decodes the picture.
    return contracts.Snapshot.from_jpeg(rng.bytes(size), kind, 1280, 720)


@dataclass(frozen=True, slots=True)
class Fire:
    latitude_deg: float
    longitude_deg: float
    ground_m: float
    sites: tuple[str, ...]  # the two sites that see it


def _eyes() -> dict[str, Eye]:
    dem = load_geodata().dem
    assert dem is not None, "the committed DEM is needed"
    return {
        site: Eye(lon, lat, float(dem.elevation_m(lon, lat)) + MAST_M)
        for site, (lat, lon) in SITES.items()
    }


@dataclass(frozen=True, slots=True)
class CameraView:
    """Where one site's camera that points closest to a fire images its smoke base."""

    camera_id: str
    geometry: contracts.CameraGeometry
    center_x: float  # normalised column of the base
    base_y: float  # normalised row of the base


# The largest plume box (width 0.006 + 0.001 * updates, height 0.02 + 0.004 * updates) must
# fit in the frame around its base.
FRAME_MARGIN = 0.1


def _camera_view(eye: Eye, fire: Fire) -> CameraView | None:
    """The camera that points closest to the fire, and where the fire's direction images in it
    (the locator's camera model); None when the plume would not fit in that frame."""
    bearing, _, distance_m = GEOD.inv(
        eye.longitude_deg, eye.latitude_deg, fire.longitude_deg, fire.latitude_deg
    )
    bearing %= 360.0
    heading = min(CAMERA_HEADINGS_DEG, key=lambda h: abs((bearing - h + 180) % 360 - 180))
    target = Eye(fire.longitude_deg, fire.latitude_deg, fire.ground_m + SMOKE_BASE_ABOVE_GROUND_M)
    elevation = apparent_elevation_deg(eye, target, distance_m)
    geometry = contracts.CameraGeometry(
        latitude_deg=eye.latitude_deg,
        longitude_deg=eye.longitude_deg,
        lens_altitude_m=eye.altitude_m,
        azimuth_deg=float(heading),
        tilt_deg=TILT_DEG,
        hfov_deg=HFOV_DEG,
        vfov_deg=VFOV_DEG,
        image_width_px=IMAGE_WIDTH_PX,
        image_height_px=IMAGE_HEIGHT_PX,
    )
    u_px, v_px = CameraModel.from_geometry(geometry).direction_to_pixel(bearing, elevation)
    center_x, base_y = float(u_px) / IMAGE_WIDTH_PX, float(v_px) / IMAGE_HEIGHT_PX
    if not (FRAME_MARGIN <= center_x <= 1 - FRAME_MARGIN and FRAME_MARGIN <= base_y <= 1):
        return None  # also NaN: behind the camera
    return CameraView(f"cam-{heading:03d}", geometry, center_x, base_y)


def _fires(count: int, rng: np.random.Generator) -> list[Fire]:
    """Random points on land between Grasse and Menton, each framed by the cameras of two sites
    with a line of sight."""
    geodata, eyes = load_geodata(), _eyes()
    assert geodata.dem is not None, "the committed DEM is needed"
    fires: list[Fire] = []
    while len(fires) < count:
        latitude, longitude = float(rng.uniform(43.62, 43.92)), float(rng.uniform(7.0, 7.42))
        ground_m = float(geodata.dem.elevation_m(longitude, latitude))
        if not ground_m >= MIN_FIRE_GROUND_M:  # also rejects NaN (no terrain data)
            continue
        fire = Fire(latitude, longitude, ground_m, ())
        target = Eye(longitude, latitude, ground_m + SMOKE_BASE_ABOVE_GROUND_M)
        seen_by = [
            site
            for site, eye in sorted(eyes.items())
            if line_of_sight(geodata.dem, eye, target) and _camera_view(eye, fire) is not None
        ]
        if len(seen_by) >= 2:
            pair = rng.choice(seen_by, size=2, replace=False)
            fires.append(replace(fire, sites=(str(pair[0]), str(pair[1]))))
    return fires


def _event(
    rng: np.random.Generator, site: str, eye: Eye, fire: Fire, start: datetime, updates: int
) -> tuple[str, list[contracts.AlertMessage]]:
    """The alerts of one camera's event: the box stands on the fire's true direction."""
    view = _camera_view(eye, fire)
    assert view is not None, "fires are drawn framed by their sites"
    camera_id, geometry, center_x, base_y = (
        view.camera_id,
        view.geometry,
        view.center_x,
        view.base_y,
    )
    event_id, alerts = uuid.uuid4(), []
    for sequence in range(updates + 2):
        end = sequence == updates + 1
        width = 0.006 + 0.001 * sequence  # the plume grows...
        height = 0.02 + 0.004 * sequence  # ...and rises from the same base
        box = contracts.BoundingBox(
            x_min=center_x - width / 2,
            y_min=base_y - height,
            x_max=center_x + width / 2,
            y_max=base_y,
            score=0.7,
            detection_class=contracts.DetectionClass.SMOKE,
        )
        state = contracts.EventState.UPDATE
        if sequence == 0:
            state = contracts.EventState.START
        elif end:
            state = contracts.EventState.END
        snapshots: tuple[contracts.Snapshot, ...] = ()
        if not end:
            snapshots = (
                _snapshot(rng, FULL_SNAPSHOT_BYTES, contracts.SnapshotKind.FULL),
                _snapshot(rng, CROP_SNAPSHOT_BYTES, contracts.SnapshotKind.CROP),
            )
        alerts.append(
            contracts.AlertMessage(
                alert_id=uuid.uuid4(),
                event_id=event_id,
                sequence=sequence,
                state=state,
                site_id=site,
                camera_id=camera_id,
                captured_at=start + timedelta(seconds=UPDATE_INTERVAL_S * sequence),
                detection_class=contracts.DetectionClass.SMOKE,
                score=0.7,
                boxes=() if end else (box,),
                camera=geometry,
                model=MODEL,
                snapshots=snapshots,
            )
        )
    return contracts.topic_for(site, camera_id, contracts.MessageKind.ALERT), alerts


def make_workload(
    fires: int, updates: int, seed: int, fire_spacing_s: float = FIRE_SPACING_S
) -> Workload:
    rng, eyes = np.random.default_rng(seed), _eyes()
    timed: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    fire_of_event = {}
    for index, fire in enumerate(_fires(fires, rng)):
        start = T0 + timedelta(seconds=fire_spacing_s * index)
        for site in fire.sites:
            topic, alerts = _event(rng, site, eyes[site], fire, start, updates)
            timed[topic] += [(a.captured_at, contracts.encode_message(a).decode()) for a in alerts]
            fire_of_event[alerts[0].event_id] = index
    lines = {topic: [line for _, line in sorted(items)] for topic, items in timed.items()}
    sizes = [len(line) for topic_lines in lines.values() for line in topic_lines]
    return Workload(lines, len(sizes), statistics.fmean(sizes), fire_of_event)


@dataclass(frozen=True, slots=True)
class ClusteringScore:
    """How central's incidents compare with the simulated fires."""

    incidents_with_several_fires: int  # a fire hidden in another's incident
    fires_over_several_incidents: int  # duplicates for the operator


def score_clustering(
    incident_of_event: dict[uuid.UUID, int], fire_of_event: dict[uuid.UUID, int]
) -> ClusteringScore:
    fires_of: dict[int, set[int]] = defaultdict(set)
    incidents_of: dict[int, set[int]] = defaultdict(set)
    for event_id, incident_id in incident_of_event.items():
        fires_of[incident_id].add(fire_of_event[event_id])
        incidents_of[fire_of_event[event_id]].add(incident_id)
    return ClusteringScore(
        sum(len(fires) > 1 for fires in fires_of.values()),
        sum(len(incidents) > 1 for incidents in incidents_of.values()),
    )


def used_database_error(database_url: str) -> str | None:
    """Why the (migrated) database cannot take a run, or None: clustering is scored against
    this run's fires, so events stored by an earlier run would be scored as unknown fires."""
    stored = len(_incident_of_event(database_url))
    if not stored:
        return None
    shown = make_url(database_url).render_as_string(hide_password=True)
    return f"--db {shown} already holds {stored} event(s) of an earlier run: give the benchmark an empty database"


def _incident_of_event(database_url: str) -> dict[uuid.UUID, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Event.id, Event.incident_id)).all()
    finally:
        engine.dispose()
    return {row.id: row.incident_id for row in rows}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before port {port} opened"
            )
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} not open after {timeout_s} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    config = workdir / "mosquitto.conf"
    # Unbounded queues: a QoS 1 subscriber that falls behind must be queued for, not dropped.
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_queued_bytes 0\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    broker = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    _wait_port(port, broker, 10)
    return broker, port


def _publishers(
    workload: Workload, port: int, workdir: Path, topic_root: str = ""
) -> list[subprocess.Popen[bytes]]:
    """One ``mosquitto_pub`` per camera topic (under ``topic_root``), all at once."""
    processes = []
    for index, (topic, lines) in enumerate(sorted(workload.lines.items())):
        source = workdir / f"topic-{index}.jsonl"
        source.write_text("\n".join(lines) + "\n")
        with source.open("rb") as stdin:
            processes.append(
                subprocess.Popen(
                    ["mosquitto_pub", "-p", str(port), "-q", "1", "-t", topic_root + topic, "-l"],
                    stdin=stdin,
                    stdout=subprocess.DEVNULL,
                )
            )
    return processes


@dataclass(frozen=True, slots=True)
class CpuShare:
    """CPU seconds per message of the broker and of Mosquitto's command-line clients in a run."""

    broker_ms: float
    clients_ms: float


def _children_cpu_s() -> float:
    """User + system CPU of this process's waited-for children (the Mosquitto clients)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class RawRun:
    msgs_per_s: float
    cpu: CpuShare


def raw_rate(
    workload: Workload, port: int, broker: subprocess.Popen[bytes], workdir: Path
) -> RawRun:
    """Messages per second from Mosquitto's own publisher to its own subscriber.

    Under ``RAW_TOPIC_ROOT``, outside central's subscription: a running central must not take
    a share of the CPU, nor its stopped session make the broker queue a copy."""
    broker_before, clients_before = _cpu_s([broker]), _children_cpu_s()
    receiver = subprocess.Popen(
        [
            "mosquitto_sub",
            "-p",
            str(port),
            "-q",
            "1",
            "-t",
            f"{RAW_TOPIC_ROOT}#",
            "-C",
            str(workload.count),
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # subscribed
    started = time.perf_counter()
    publishers = _publishers(workload, port, workdir, RAW_TOPIC_ROOT)
    receiver.wait(timeout=STEP_TIMEOUT_S)
    elapsed_s = time.perf_counter() - started
    for publisher in publishers:
        publisher.wait(timeout=STEP_TIMEOUT_S)
    cpu = CpuShare(
        1000 * (_cpu_s([broker]) - broker_before) / workload.count,
        1000 * (_children_cpu_s() - clients_before) / workload.count,
    )
    return RawRun(workload.count / elapsed_s, cpu)


def decode_rate(workload: Workload) -> float:
    """Messages per second that contract validation alone allows in one Python process: the
    ceiling of one central instance before any storage (base64 and sha256 of the snapshots)."""
    started = time.perf_counter()
    for topic, lines in workload.lines.items():
        for line in lines:
            contracts.decode_message(topic, line.encode())
    return workload.count / (time.perf_counter() - started)


def _get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.load(response)


def central_health(port: int) -> Any:
    """``/api/v1/health`` answers 503, with the same body, until ingest is subscribed."""
    try:
        return _get(port, "/api/v1/health")
    except urllib.error.HTTPError as error:
        if error.code != 503:
            raise
        return json.load(error)


def _received(ports: Sequence[int]) -> int:
    """Messages the central instances received, all together."""
    return sum(int(_get(port, "/api/v1/metrics")["counters"].get("received", 0)) for port in ports)


def _wait_received(
    ports: Sequence[int], count: int, poll_s: float | None = None, started: float | None = None
) -> float:
    """When the central instances have committed ``count`` messages (perf_counter seconds).

    ``poll_s`` None: adaptive, half the remaining time estimated from the rate since
    ``started``."""
    start = time.perf_counter() if started is None else started
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while (received := _received(ports)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"central received {received} of {count} messages")
        wait_s = poll_s
        if wait_s is None:
            elapsed_s = time.perf_counter() - start
            remaining_s = (count - received) * elapsed_s / received if received else MAX_POLL_S
            wait_s = min(max(remaining_s / 2, MIN_POLL_S), MAX_POLL_S)
        time.sleep(wait_s)
    return time.perf_counter()


def _cpu_s(processes: Sequence[subprocess.Popen[bytes]]) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc)."""
    total_ticks = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total_ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total_ticks / CLOCK_TICKS_PER_S


@dataclass(frozen=True, slots=True)
class CentralRun:
    msgs_per_s: float
    cpu_s: float  # used by the central processes during the run
    cpu: CpuShare  # the broker's and the publishers' share meanwhile


def central_rate(
    workload: Workload,
    port: int,
    broker: subprocess.Popen[bytes],
    centrals: Sequence[subprocess.Popen[bytes]],
    http_ports: Sequence[int],
    workdir: Path,
) -> CentralRun:
    """From the first publish to the commit of the last message."""
    cpu_before, broker_before = _cpu_s(centrals), _cpu_s([broker])
    clients_before = _children_cpu_s()
    started = time.perf_counter()
    publishers = _publishers(workload, port, workdir)
    finished = _wait_received(http_ports, workload.count, started=started)
    cpu_s = _cpu_s(centrals) - cpu_before
    broker_ms = 1000 * (_cpu_s([broker]) - broker_before) / workload.count
    for publisher in publishers:
        publisher.wait(timeout=STEP_TIMEOUT_S)
    clients_ms = 1000 * (_children_cpu_s() - clients_before) / workload.count
    return CentralRun(workload.count / (finished - started), cpu_s, CpuShare(broker_ms, clients_ms))


def latency_ms(port: int, http_ports: Sequence[int], count: int, seed: int) -> list[float]:
    """Publish one start alert at a time into an idle central; time until it is stored."""
    rng, eyes = np.random.default_rng(seed + 1), _eyes()
    samples = []
    for index, fire in enumerate(_fires(count, rng)):
        start = T0 + timedelta(days=1, seconds=3600 * index)
        topic, alerts = _event(rng, fire.sites[0], eyes[fire.sites[0]], fire, start, updates=0)
        before = _received(http_ports)
        started = time.perf_counter()
        subprocess.run(
            ["mosquitto_pub", "-p", str(port), "-q", "1", "-t", topic, "-s"],
            input=contracts.encode_message(alerts[0]),
            check=True,
            timeout=30,
        )
        stored = _wait_received(http_ports, before + 1, LATENCY_POLL_S)
        samples.append(1000 * (stored - started))
    return samples


def _start_central(
    database_url: str, port: int, workdir: Path, instance: int
) -> tuple[subprocess.Popen[bytes], int]:
    http_port = _free_port()
    env = {
        **os.environ,
        "VIGIFEU_ENVIRONMENT": "dev",
        "VIGIFEU_INSTANCE_ID": f"central-bench-{instance}",
    }
    log = (workdir / f"central-{instance}.log").open("wb")
    central = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigifeu.cli",
            "--log-level",
            "WARNING",
            "central",
            "--db",
            database_url,
            "--mqtt",
            f"mqtt://127.0.0.1:{port}",
            "--host",
            "127.0.0.1",
            "--port",
            str(http_port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    _wait_port(http_port, central, 120)
    deadline = time.monotonic() + 30
    while not central_health(http_port)["mqtt_connected"]:
        if time.monotonic() > deadline:
            raise TimeoutError("central did not connect to the broker")
        time.sleep(0.1)
    return central, http_port


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    workload = make_workload(args.fires, args.updates, args.seed, args.fire_spacing_s)
    logger.info(
        "%d alerts on %d topics, %.0f bytes each on average",
        workload.count,
        len(workload.lines),
        workload.mean_payload_bytes,
    )
    decode_per_s = decode_rate(workload)
    with tempfile.TemporaryDirectory(prefix="vigifeu-bench-ingest-") as folder:
        workdir = Path(folder)
        broker, port = _start_broker(workdir)
        centrals: list[subprocess.Popen[bytes]] = []
        try:
            raw_rate(workload, port, broker, workdir)  # warm-up (step 0 above)
            raw_before = raw_rate(workload, port, broker, workdir)
            database_url = args.db or f"sqlite:///{workdir / 'central.sqlite3'}"
            http_ports = []
            for instance in range(args.instances):
                process, http_port = _start_central(database_url, port, workdir, instance)
                centrals.append(process)
                http_ports.append(http_port)
            if error := used_database_error(database_url):  # the centrals have migrated it
                logger.error("%s", error)
                return 2
            central = central_rate(workload, port, broker, centrals, http_ports, workdir)
            counters = [_get(p, "/api/v1/metrics")["counters"] for p in http_ports]
            incidents = _get(http_ports[0], "/api/v1/incidents?limit=500")
            clustering = score_clustering(_incident_of_event(database_url), workload.fire_of_event)
            latencies = latency_ms(port, http_ports, args.latency_alerts, args.seed)
            raw_after = raw_rate(workload, port, broker, workdir)
        finally:
            for process in centrals:
                _stop(process)
            _stop(broker)
    raw_per_s = (raw_before.msgs_per_s + raw_after.msgs_per_s) / 2
    central_cpu_ms = 1000 * central.cpu_s / workload.count
    # What every process of the central run used per message, against the cores there are: no
    # arrangement of central instances on this machine can ingest faster than this.
    all_cpu_ms = central_cpu_ms + central.cpu.broker_ms + central.cpu.clients_ms
    cores = len(os.sched_getaffinity(0))
    located = sum(
        1
        for item in incidents["items"]
        if item["location"] and item["location"]["method"] == "triangulation"
    )
    result = {
        "alerts": workload.count,
        "fires": args.fires,
        "fire_spacing_s": args.fire_spacing_s,
        "mean_payload_bytes": round(workload.mean_payload_bytes),
        "database": (args.db or "sqlite").split(":", 1)[0],
        "raw_broker_msgs_per_s": [round(raw_before.msgs_per_s, 1), round(raw_after.msgs_per_s, 1)],
        "raw_cpu_ms_per_msg": {
            "broker": round((raw_before.cpu.broker_ms + raw_after.cpu.broker_ms) / 2, 3),
            "clients": round((raw_before.cpu.clients_ms + raw_after.cpu.clients_ms) / 2, 3),
        },
        "central_msgs_per_s": round(central.msgs_per_s, 1),
        # Contention-free view: the rate one core would give central (the machine is shared).
        "central_cpu_ms_per_msg": round(central_cpu_ms, 2),
        "central_run_cpu_ms_per_msg": {
            "broker": round(central.cpu.broker_ms, 3),
            "publishers": round(central.cpu.clients_ms, 3),
        },
        "cores": cores,
        "machine_ceiling_msgs_per_s": round(cores * 1000 / all_cpu_ms, 1),
        "decode_only_msgs_per_s": round(decode_per_s, 1),
        "ratio": round(central.msgs_per_s / raw_per_s, 3),
        "target_ratio": TARGET_RATIO,
        "instances": args.instances,
        "central_counters": counters,
        "incidents": incidents["total"],
        "incidents_triangulated": located,
        "incidents_with_several_fires": clustering.incidents_with_several_fires,
        "fires_over_several_incidents": clustering.fires_over_several_incidents,
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(float(np.percentile(latencies, 95)), 1),
        },
    }
    (args.out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    logger.info("ingest: %s", json.dumps(result))
    return 0
