"""The ``vigifeu bench`` commands: load what each needs, run it, write its outputs.

Each returns the process exit code: 0 on success, 2 when an input cannot be used (the message
says which file and why).
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime
from typing import Any

from benchmarks.dataset import DatasetError
from benchmarks.frames import DATASET_EPOCH, ImageReadError
from benchmarks.model import BenchModel, load_model, parent_model, pytorch_checkpoint
from benchmarks.sequences import SequenceFileError
from benchmarks.speed import SpeedBenchError
from benchmarks.video import VideoBenchError
from edge.config import ConfigError, Thresholds, load_config
from edge.detect.registry import RegistryError

logger = logging.getLogger(__name__)

INPUT_ERRORS = (
    DatasetError,
    ImageReadError,
    SequenceFileError,
    SpeedBenchError,
    VideoBenchError,
    ConfigError,
    RegistryError,
    FileNotFoundError,
)
# Detector floor of sequence replays: low enough to draw the sub-threshold scores on the
# timeline; the camera's own floor is applied by the filters, as on the edge.
TIMELINE_SCORE_FLOOR = 0.05


def _guarded(name: str, body: Any) -> int:
    try:
        body()
    except INPUT_ERRORS as error:
        logger.error("bench %s: %s", name, error)
        return 2
    return 0


def accuracy(args: argparse.Namespace, command: str) -> int:
    from benchmarks.accuracy import run_accuracy, write_outputs

    def body() -> None:
        run = run_accuracy(
            args.model,
            args.data,
            args.split,
            registry=args.registry,
            threshold=args.threshold,
            limit=args.limit,
            threads=args.threads,
            mirror=args.mirror,
        )
        write_outputs(run, args.out, command)

    return _guarded("accuracy", body)


def _thresholds(args: argparse.Namespace, base: Thresholds) -> Thresholds:
    overrides = {
        "detection_score": args.detection_score,
        "window_frames": args.window_frames,
        "confirm_score": args.confirm_score,
        "end_after_s": args.end_after_s,
    }
    chosen = {key: value for key, value in overrides.items() if value is not None}
    return Thresholds.model_validate({**base.model_dump(), **chosen})


def _detector(
    model: BenchModel, threads: int, score_floor: float, *, tiles: int = 1, mirror: bool
) -> Any:
    from edge.detect.onnx_detector import OnnxDetector

    return OnnxDetector(
        model.path,
        model_info=model.info,
        threads=threads,
        score_floor=score_floor,
        iou_threshold=model.iou_threshold,
        tiles=tiles,
        mirror=mirror,
    )


def sequences(args: argparse.Namespace, command: str) -> int:
    from benchmarks.sequences import bench_camera, read_timelines, run_sequences
    from benchmarks.sequences_report import write_outputs
    from benchmarks.video import PlaceholderEnvironment, camera_of

    def body() -> None:
        configured = None
        if args.camera_config is not None:
            site_config = load_config(args.camera_config, PlaceholderEnvironment())
            configured = camera_of(site_config, args.camera)
        model = load_model(args.model, args.registry)
        base = (
            configured.thresholds
            if configured
            else Thresholds.at_operating_point(model.score_threshold)
        )
        thresholds = _thresholds(args, base)
        camera = bench_camera(thresholds, configured)
        floor = min(TIMELINE_SCORE_FLOOR, thresholds.detection_score)
        detector = _detector(model, args.threads, floor, mirror=args.mirror)
        timelines = read_timelines(args.sequences, args.frame_interval_s)
        metrics, outcomes = run_sequences(timelines, detector, camera)
        metrics["thresholds"] = thresholds.model_dump()
        metrics["model"] = {"name": model.info.name, "sha256": model.info.sha256}
        write_outputs(metrics, timelines, outcomes, thresholds, args.out, command)

    return _guarded("sequences", body)


def speed(args: argparse.Namespace, command: str) -> int:
    from benchmarks.speed import list_images, run_speed
    from benchmarks.speed_report import write_outputs

    def body() -> None:
        model = load_model(args.model, args.registry)
        fp32 = load_model(args.fp32) if args.fp32 is not None else parent_model(model)
        checkpoint = args.pt or next(
            (pt for m in (fp32, model) if m is not None and (pt := pytorch_checkpoint(m))), None
        )
        metrics = run_speed(
            model,
            list_images(args.images, args.limit),
            fp32=fp32,
            checkpoint=checkpoint,
            ultralytics_onnx=args.ultralytics_onnx,
            threads=args.threads,
            rounds=args.rounds,
        )
        write_outputs(metrics, args.out, command)

    return _guarded("speed", body)


def video(args: argparse.Namespace, command: str) -> int:
    from benchmarks.video import (
        PlaceholderEnvironment,
        camera_of,
        due_frames,
        run_video,
        summary,
        write_outputs,
    )

    def body() -> None:
        site_config = load_config(args.camera_config, PlaceholderEnvironment())
        camera = camera_of(site_config, args.camera)
        detector_config = site_config.detector
        model = load_model(
            args.model or detector_config.model, args.registry or detector_config.registry
        )
        detector = _detector(
            model,
            detector_config.threads,
            camera.thresholds.detection_score,
            tiles=detector_config.tiles,
            mirror=detector_config.mirror,
        )
        start_at = datetime.fromisoformat(args.start_at) if args.start_at else DATASET_EPOCH
        if start_at.tzinfo is None:
            raise VideoBenchError(f"--start-at {args.start_at!r} needs a time zone (e.g. Z)")
        frames = due_frames(args.video, camera.id, camera.cadence_s, start_at, args.time_scale)
        run = run_video(
            frames,
            detector,
            site=site_config.site,
            camera=camera,
            model=model.info,
            replay_name=f"{args.video.name}/{camera.id}",
        )
        write_outputs(summary(run, model.info, camera, args.video), run, camera, args.out, command)

    return _guarded("video", body)


def run_all(args: argparse.Namespace, command: str) -> int:
    """0 when every step ran (or awaits a shipped model), 1 when one failed, 2 on bad input."""
    from benchmarks.results import Options, run_all_benchmarks

    options = Options(
        threads=args.threads,
        speed_limit=args.speed_limit,
        speed_rounds=args.speed_rounds,
        geo_fires=args.geo_fires,
        ingest=args.ingest,
        ingest_fires=args.ingest_fires,
        edge_footprint=args.edge_footprint,
    )
    code = 2

    def body() -> None:
        nonlocal code
        code = run_all_benchmarks(
            shared=args.shared,
            model_name=args.model,
            registry=args.registry,
            out=args.out,
            results=args.results,
            options=options,
            command=command,
        )

    return _guarded("all", body) or code
