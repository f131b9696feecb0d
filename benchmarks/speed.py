"""``vigifeu bench speed``: the edge path against the baselines, side by side in one run.

Paths: vigifeu INT8 (the model), vigifeu FP32 (its registry parent or ``--fp32``), ultralytics
``predict`` on the FP32 ONNX parent (ultralytics cannot write an INT8 ONNX, so that is what its
users deploy), ultralytics ``predict`` on the same INT8 file as vigifeu (same graph and kernels:
the difference is only what each pipeline adds around the session), and ultralytics ``predict``
in PyTorch on the parent's ``.pt`` at the model's input size. Each path lives in its own worker
process (its own peak RSS; no torch in the edge paths). Work is interleaved: every round sends each path the same chunk of frames, in an order
that rotates, so a burst of load from the other jobs of a shared machine hits all paths alike.
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing
import os
import platform
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.flops import count_gflops
from benchmarks.model import BenchModel
from benchmarks.speed_worker import PathSpec, serve
from edge.detect.preprocess import InputSize

logger = logging.getLogger(__name__)

ULTRALYTICS_PATHS = ("ultralytics_onnx", "ultralytics_onnx_int8", "ultralytics_torch")
# vigifeu_int8_mirror is how the edge runs by default (the frame and its mirror); the ratio
# targets compare one pass of each path, the same work.
PATHS = ("vigifeu_int8", "vigifeu_int8_mirror", "vigifeu_fp32", *ULTRALYTICS_PATHS)
STAGES = ("decode", "preprocess", "inference", "postprocess")
CHUNK_FRAMES = 10
LOAD_TIMEOUT_S = 300.0  # importing torch + ultralytics takes ~3 s; a loaded machine, much more
CHUNK_TIMEOUT_S = 600.0  # 10 frames; the slowest path measured ~100 ms per 640 frame
CADENCE_S = 10.0  # cameras-per-core figure: one analysed frame every 10 s per camera
TARGETS = {  # issue 4: INT8 end-to-end frames/s over each baseline
    "int8_vs_ultralytics_torch": 2.5,
    "int8_vs_ultralytics_onnx": 1.3,
    "int8_vs_fp32": 1.6,
}
# INT8 frames/s over each baseline; int8_vs_ultralytics_onnx_int8 is informational (no target).
BASELINES = {
    "int8_vs_fp32": "vigifeu_fp32",
    "int8_vs_ultralytics_onnx": "ultralytics_onnx",
    "int8_vs_ultralytics_onnx_int8": "ultralytics_onnx_int8",
    "int8_vs_ultralytics_torch": "ultralytics_torch",
}
PRE_POST_TARGET = 0.10  # (preprocess + postprocess) / inference at batch 1


class SpeedBenchError(RuntimeError):
    """A worker failed or did not answer in time."""


@dataclass
class _Worker:
    spec: PathSpec
    process: BaseProcess
    connection: Connection
    samples: list[dict[str, float]]
    load_s: float = 0.0
    peak_rss_mb: float | None = None
    network_input: dict[str, Any] = field(default_factory=dict)


def _receive(worker: _Worker, timeout_s: float) -> tuple[str, Any]:
    if not worker.connection.poll(timeout_s):
        raise SpeedBenchError(f"{worker.spec.name}: no answer within {timeout_s:.0f} s")
    try:
        kind, payload = worker.connection.recv()
    except EOFError:
        code = worker.process.exitcode
        raise SpeedBenchError(f"{worker.spec.name}: worker died (exit code {code})") from None
    if kind == "error":
        raise SpeedBenchError(f"{worker.spec.name}: {payload}")
    return str(kind), payload


def _start(spec: PathSpec, warm_up: list[Path]) -> _Worker:
    context = multiprocessing.get_context("spawn")  # fresh interpreter: honest RSS, no fork state
    parent, child = context.Pipe()
    process = context.Process(target=serve, args=(child, spec, warm_up), name=f"bench-{spec.name}")
    process.start()
    child.close()
    return _Worker(spec, process, parent, [])


def measure_paths(
    specs: Sequence[PathSpec], images: Sequence[Path], rounds: int
) -> dict[str, dict[str, Any]]:
    """Run every path on ``images`` ``rounds`` times, interleaved; raw samples per path."""
    workers: list[_Worker] = []
    failures: dict[str, str] = {}
    try:
        for spec in specs:  # load one at a time: parallel loads would slow each other
            worker = _start(spec, list(images))
            try:
                _, ready = _receive(worker, LOAD_TIMEOUT_S)
                worker.load_s = float(ready.pop("load_s"))
                worker.network_input = ready
                workers.append(worker)
                logger.info("speed: %s loaded in %.1f s", spec.name, worker.load_s)
            except SpeedBenchError as error:
                logger.warning("speed: path skipped: %s", error)
                failures[spec.name] = str(error)
                worker.process.kill()
                worker.process.join(timeout=10)
        if not workers:
            raise SpeedBenchError(f"no path could be loaded: {failures}")
        chunks = [images[i : i + CHUNK_FRAMES] for i in range(0, len(images), CHUNK_FRAMES)]
        total = rounds * len(chunks)
        for step in range(total):
            order = workers[step % len(workers) :] + workers[: step % len(workers)]
            for worker in order:
                worker.connection.send(list(chunks[step % len(chunks)]))
                worker.samples += _receive(worker, CHUNK_TIMEOUT_S)[1]
            if (step + 1) % max(1, total // 10) == 0 or step + 1 == total:
                logger.info("speed: chunk %d/%d (all paths)", step + 1, total)
        for worker in workers:
            worker.connection.send(None)
            worker.peak_rss_mb = float(_receive(worker, CHUNK_TIMEOUT_S)[1]["peak_rss_mb"])
    finally:
        for worker in workers:
            worker.connection.close()  # a worker still waiting for work sees EOF and exits
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
    results: dict[str, dict[str, Any]] = {name: {"skipped": why} for name, why in failures.items()}
    for worker in workers:
        results[worker.spec.name] = summarise_path(worker)
    return results


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    array = np.asarray(values, np.float64)
    return {"p50_ms": float(np.percentile(array, 50)), "p95_ms": float(np.percentile(array, 95))}


def summarise_path(worker: _Worker) -> dict[str, Any]:
    samples = worker.samples
    end_to_end = [s["end_to_end"] for s in samples]
    mean_ms = float(np.mean(end_to_end))
    stages = {stage: _percentiles([s[stage] for s in samples]) for stage in STAGES}
    cpu_ms = float(np.mean([s["cpu"] for s in samples]))
    inference_p50 = stages["inference"]["p50_ms"]
    pre_post = stages["preprocess"]["p50_ms"] + stages["postprocess"]["p50_ms"]
    return {
        "model": str(worker.spec.model_path),
        **({"note": worker.spec.note} if worker.spec.note else {}),
        **worker.network_input,
        "frames": len(samples),
        "fps": 1000.0 / mean_ms,
        "mean_ms": mean_ms,
        **_percentiles(end_to_end),
        "stages": stages,
        "pre_post_over_inference": pre_post / inference_p50 if inference_p50 > 0 else None,
        "cpu_ms_per_frame": cpu_ms,
        "cameras_per_core_at_10s": CADENCE_S * 1000.0 / cpu_ms if cpu_ms > 0 else None,
        "peak_rss_mb": worker.peak_rss_mb,
        "load_s": worker.load_s,
    }


def ratios(paths: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    int8 = paths.get("vigifeu_int8", {}).get("fps")
    result: dict[str, float | None] = {}
    for key, baseline in BASELINES.items():
        other = paths.get(baseline, {}).get("fps")
        result[key] = int8 / other if int8 and other else None
    return result


def targets(paths: dict[str, dict[str, Any]], found: dict[str, float | None]) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    for key, target in TARGETS.items():
        value = found[key]
        checks[key] = {
            "target": target,
            "value": value,
            "met": None if value is None else value >= target,
        }
    share = paths.get("vigifeu_int8", {}).get("pre_post_over_inference")
    checks["pre_post_over_inference"] = {
        "target": PRE_POST_TARGET,
        "value": share,
        "met": None if share is None else share <= PRE_POST_TARGET,
        "comparison": "<=",
    }
    return checks


def _pixels(size: InputSize) -> int:
    return size.width_px * size.height_px


def model_input_size(model_path: Path) -> InputSize:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    height, width = session.get_inputs()[0].shape[2:]
    if not isinstance(height, int) or not isinstance(width, int):
        raise SpeedBenchError(
            f"{model_path}: input size is dynamic ({height}, {width}); export a static model"
        )
    return InputSize(width, height)


def list_images(folder: Path, limit: int | None) -> list[Path]:
    from benchmarks.dataset import IMAGE_SUFFIXES

    images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise SpeedBenchError(f"{folder}: no images")
    return images[:limit]


def plan_paths(
    model: BenchModel,
    fp32: BenchModel | None,
    checkpoint: Path | None,
    *,
    threads: int,
    config_dir: Path,
    ultralytics_onnx: Path | None = None,
) -> tuple[list[PathSpec], dict[str, str]]:
    """The paths that can run, and why the others cannot.

    ``ultralytics_onnx`` runs ``ultralytics_onnx`` if given, else the FP32 parent, else (a
    model without parent) the model's own file, and says so; ``ultralytics_onnx_int8`` runs the
    model's own file when ``ultralytics_onnx`` does not already.
    """
    size = model_input_size(model.path)

    def spec(
        name: str, kind: str, path: Path, note: str | None = None, mirror: bool = False
    ) -> PathSpec:
        return PathSpec(
            name,
            kind,
            path,
            size,
            model.score_threshold,
            model.iou_threshold,
            threads,
            config_dir,
            note,
            mirror,
        )

    specs = [
        spec("vigifeu_int8", "vigifeu", model.path),
        spec("vigifeu_int8_mirror", "vigifeu", model.path, mirror=True),
    ]
    skipped: dict[str, str] = {}
    if fp32 is not None:
        specs.append(spec("vigifeu_fp32", "vigifeu", fp32.path))
    else:
        skipped["vigifeu_fp32"] = "no FP32 parent in the registry and no --fp32 given"
    if importlib.util.find_spec("ultralytics") is None:
        reason = "ultralytics is not installed (pip install -e '.[train]')"
        skipped.update(dict.fromkeys(ULTRALYTICS_PATHS, reason))
        return specs, skipped
    if ultralytics_onnx is not None:
        onnx_spec = spec(
            "ultralytics_onnx", "ultralytics", ultralytics_onnx, "given with --ultralytics-onnx"
        )
    elif fp32 is not None:
        onnx_spec = spec("ultralytics_onnx", "ultralytics", fp32.path)
    else:
        note = "no FP32 parent: runs the model's own file, not an FP32 export"
        onnx_spec = spec("ultralytics_onnx", "ultralytics", model.path, note)
    specs.append(onnx_spec)
    if onnx_spec.model_path.resolve() != model.path.resolve():
        specs.append(spec("ultralytics_onnx_int8", "ultralytics", model.path))
    else:
        skipped["ultralytics_onnx_int8"] = "ultralytics_onnx already runs the model's own file"
    if checkpoint is not None:
        specs.append(spec("ultralytics_torch", "ultralytics", checkpoint))
    else:
        skipped["ultralytics_torch"] = "no PyTorch .pt beside the FP32 model and no --pt given"
    return specs, skipped


def run_speed(
    model: BenchModel,
    images: Sequence[Path],
    *,
    fp32: BenchModel | None,
    checkpoint: Path | None,
    threads: int,
    rounds: int,
    ultralytics_onnx: Path | None = None,
) -> dict[str, Any]:
    """The ``metrics.json`` document of one side-by-side run."""
    with tempfile.TemporaryDirectory(prefix="vigifeu-bench-") as config_dir:
        specs, skipped = plan_paths(
            model,
            fp32,
            checkpoint,
            threads=threads,
            config_dir=Path(config_dir),
            ultralytics_onnx=ultralytics_onnx,
        )
        paths = measure_paths(specs, images, rounds)
    paths.update({name: {"skipped": why} for name, why in skipped.items()})
    paths = {name: paths[name] for name in PATHS if name in paths}
    size = specs[0].input_size
    # A convolutional network's work grows with its input pixels: a path that ran another
    # tensor than the model's (PyTorch's minimal letterbox) is counted at its own pixels.
    reference = fp32.path if fp32 is not None else model.path
    counted = count_gflops(reference)
    per_px = None if counted is None else counted / _pixels(model_input_size(reference))
    gflops = None if per_px is None else per_px * _pixels(size)
    for result in paths.values():
        if "stages" in result:
            seconds = result["stages"]["inference"]["p50_ms"] / 1000.0
            ran = InputSize.parse(result.get("input_px") or str(size))
            work = per_px * _pixels(ran) * result.get("views", 1) if per_px else None
            result["achieved_gflops_per_s"] = work / seconds if work else None
    found = ratios(paths)
    return {
        "paths": paths,
        "ratios": found,
        "gflops_per_frame": gflops,
        "targets": targets(paths, found),
        "frames": len(images),
        "rounds": rounds,
        "threads": threads,
        "input_size": str(size),  # WIDTHxHEIGHT of the benchmarked model's static input
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_name()},
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
