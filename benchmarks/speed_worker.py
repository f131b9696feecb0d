"""One inference path of ``bench speed``, run in its own process.

A separate process per path gives each its own peak RSS (``ru_maxrss``) and keeps the vigifeu
paths free of torch: the edge never imports it, so its memory must not include it. The parent
sends lists of image paths; the worker answers one sample per image: milliseconds per stage
(decode, preprocess, inference, postprocess), end to end, and process CPU time (all threads).
Once warm it also says what the network was fed (the letterboxed tensor's width x height, and
the ``imgsz`` that ultralytics used), since the paths may letterbox a frame differently.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from benchmarks.frames import make_frame, read_image
from edge.detect.preprocess import InputSize

WARM_UP_FRAMES = 3  # first calls allocate buffers and pick kernels (~10x slower)


@dataclass(frozen=True, slots=True)
class PathSpec:
    """What a worker runs: ``kind`` vigifeu (edge OnnxDetector) or ultralytics (YOLO.predict)."""

    name: str
    kind: str  # "vigifeu" | "ultralytics"
    model_path: Path
    input_size: InputSize  # the benchmarked model's; ultralytics' PyTorch predict gets it as imgsz
    score_threshold: float
    iou_threshold: float
    threads: int
    ultralytics_config_dir: Path
    note: str | None = None  # why this path runs this file, when it is a fallback
    mirror: bool = False  # vigifeu: also the mirrored frame, the two views averaged


class Runner(Protocol):
    def run(self, image: Any, index: int) -> dict[str, float]: ...

    def network_input(self, image: Any) -> dict[str, Any]: ...


class VigifeuRunner:
    def __init__(self, spec: PathSpec) -> None:
        from contracts import ModelInfo
        from edge.detect.onnx_detector import OnnxDetector
        from edge.detect.registry import file_sha256

        info = ModelInfo(name=spec.name, version="bench", sha256=file_sha256(spec.model_path))
        self._detector = OnnxDetector(
            spec.model_path,
            model_info=info,
            threads=spec.threads,
            score_floor=spec.score_threshold,
            iou_threshold=spec.iou_threshold,
            mirror=spec.mirror,
        )

    def run(self, image: Any, index: int) -> dict[str, float]:
        found = self._detector.detect([make_frame(image, index)])[0]
        timings = found.timings
        assert timings is not None  # OnnxDetector always times its stages
        return {
            "preprocess": timings.preprocess_ms,
            "inference": timings.inference_ms,
            "postprocess": timings.postprocess_ms,
        }

    def network_input(self, image: Any) -> dict[str, Any]:
        return {
            "input_px": str(self._detector.input_size),
            "imgsz": None,
            "views": self._detector.views,  # model passes per frame
        }


class UltralyticsRunner:
    def __init__(self, spec: PathSpec) -> None:
        from vigifeu.training.hermetic import make_ultralytics_hermetic

        os.environ["YOLO_VERBOSE"] = "False"  # its banners would interleave with our progress
        make_ultralytics_hermetic(spec.ultralytics_config_dir)  # before the import reads the env
        import torch
        from ultralytics import YOLO

        torch.set_num_threads(spec.threads)
        self._model = YOLO(str(spec.model_path), task="detect")
        self._spec = spec

    def run(self, image: Any, index: int) -> dict[str, float]:
        spec = self._spec
        results = self._model.predict(
            image,
            imgsz=[spec.input_size.height_px, spec.input_size.width_px],
            conf=spec.score_threshold,
            iou=spec.iou_threshold,
            device="cpu",
            verbose=False,
        )
        speed = results[0].speed
        return {stage: float(speed[stage]) for stage in ("preprocess", "inference", "postprocess")}

    def network_input(self, image: Any) -> dict[str, Any]:
        """The tensor ultralytics' own preprocessing makes of ``image`` (after a first predict):
        an ONNX file takes the imgsz of its export metadata, whatever predict is given, and
        PyTorch letterboxes to the smallest stride multiple that holds the frame."""
        predictor = self._model.predictor
        height, width = predictor.preprocess([image]).shape[2:]
        return {"input_px": f"{width}x{height}", "imgsz": [int(side) for side in predictor.imgsz]}


def _measure(runner: Runner, path: Path, index: int) -> dict[str, float]:
    started, cpu_started = time.perf_counter(), time.process_time()
    image = read_image(path)
    decoded = time.perf_counter()
    sample = runner.run(image, index)
    finished, cpu_finished = time.perf_counter(), time.process_time()
    sample["decode"] = (decoded - started) * 1000.0
    sample["end_to_end"] = (finished - started) * 1000.0
    sample["cpu"] = (cpu_finished - cpu_started) * 1000.0
    return sample


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def serve(connection: Connection, spec: PathSpec, warm_up: list[Path]) -> None:
    """Worker entry point: load, warm up, then answer image lists until told to stop (None)."""
    try:
        started = time.perf_counter()
        runner: Runner = VigifeuRunner(spec) if spec.kind == "vigifeu" else UltralyticsRunner(spec)
        for index, path in enumerate(warm_up[:WARM_UP_FRAMES]):
            _measure(runner, path, index)
        load_s = time.perf_counter() - started
        described = runner.network_input(read_image(warm_up[0])) if warm_up else {}
        connection.send(("ready", {"load_s": load_s, **described}))
        while (paths := connection.recv()) is not None:
            samples = [_measure(runner, path, index) for index, path in enumerate(paths)]
            connection.send(("samples", samples))
        connection.send(("done", {"peak_rss_mb": peak_rss_mb()}))
    except EOFError:  # the parent closed the pipe: it stopped the run
        pass
    except Exception as error:  # the parent reports it as this path's failure
        with contextlib.suppress(OSError):
            connection.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()
