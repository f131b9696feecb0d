"""INT8 static quantization of a YOLO ONNX export, with the Detect-head decode kept in float.

Recipe measured in research/toolchain.md §2: QDQ, per-channel QInt8 weights, QUInt8 activations,
MinMax calibration on letterboxed frames. Quantizing the whole graph gives zero detections: the
decode after the head's cv2/cv3 convolutions (DFL softmax-expectation, anchor grid, strides,
sigmoid, concat) mixes pixel-scale box values with 0..1 scores in one tensor, and one 8-bit scale
cannot hold both. So every node of the head except its convolution branches stays float.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from edge.detect.preprocess import InputSize, letterbox
from vigifeu.training.data import list_split

logger = logging.getLogger(__name__)

# The Detect head's per-level convolution branches: box (cv2) and class (cv3), plus the
# one-to-one copies of end-to-end heads. Everything else under the head's prefix is decode.
HEAD_BRANCHES = ("/cv2.", "/cv3.", "/one2one_cv2.", "/one2one_cv3.")
_MODULE_INDEX = re.compile(r"^/model\.(\d+)/")
# Calibrations. Measured on an epoch-4 checkpoint at 640, 64 frames, smoke AP50 on hpwren val (FP32 0.203): percentile
# 99.999 0.193, MinMax with moving average 0.188, MinMax 0.167, entropy 0.167. Percentile
# clips the rare huge activations that stretch MinMax's 8-bit steps past faint plumes.
CALIBRATIONS: dict[str, tuple[CalibrationMethod, dict[str, Any]]] = {
    "percentile": (CalibrationMethod.Percentile, {"CalibPercentile": 99.999}),
    "minmax-ema": (CalibrationMethod.MinMax, {"CalibMovingAverage": True}),
    "minmax": (CalibrationMethod.MinMax, {}),
    "entropy": (CalibrationMethod.Entropy, {}),
}
# What stays float, from the least to the most. Measured on the epoch-5 checkpoint at 640 (64
# frames, MinMax with moving average, smoke AP50 on hpwren val, FP32 0.275, CPU ms at 2 threads):
# decode 0.226 (109 ms), classes 0.269 (125 ms), head 0.267 (148 ms), FP32 173 ms. The class
# branch turns features into the smoke score; its 8-bit steps reorder the low, close scores of a
# young model.
FLOAT_SCOPES = ("decode", "stem", "classes", "head")
# The backbone's stem conv, first downsampling conv and first C3 block, at 1/2 and 1/4 of the
# input resolution. Their activations quantize worst (onnxruntime's qdq_loss_debug on hpwren
# val frames: the lowest SQNR of the v1 and v2 models), and in float they cost no measurable
# time (models/README.md).
STEM_MODULES = ("/model.0/", "/model.1/", "/model.2/")
# Frames calibrated at once: bounds the calibrator's memory to ~0.7 GB at 640.
CALIBRATION_CHUNK = 8
# Calibration mix (research/smoke-detection-methods.md §4): about a third with smoke, some fire,
# the rest empty views, so activation ranges cover both faint plumes and bright skies.
SMOKE_SHARE = 1 / 3
FIRE_SHARE = 1 / 6


class QuantizationError(RuntimeError):
    """The model cannot be quantized as asked (no Detect head, no calibration frames...)."""


@dataclass(frozen=True, slots=True)
class QuantizationResult:
    path: Path
    excluded_nodes: tuple[str, ...]
    calibration_frames: int
    method: str
    float_scope: str | None
    seconds: float


def detect_head_prefix(model: onnx.ModelProto) -> str:
    """``/model.N/`` of the Detect head: the last module that owns cv2/cv3 branch nodes."""
    indices = {
        int(match[1])
        for node in model.graph.node
        if (match := _MODULE_INDEX.match(node.name)) and any(b in node.name for b in HEAD_BRANCHES)
    }
    if not indices:
        raise QuantizationError("no Detect head (/model.N/cv2., /cv3. nodes) in the ONNX graph")
    return f"/model.{max(indices)}/"


def head_decode_nodes(model: onnx.ModelProto) -> list[str]:
    """Names of the Detect head's decode nodes (DFL, grid, concat...), to keep in float."""
    prefix = detect_head_prefix(model)
    return [
        node.name
        for node in model.graph.node
        if node.name.startswith(prefix) and not any(b in node.name for b in HEAD_BRANCHES)
    ]


def float_nodes(model: onnx.ModelProto, scope: str | None) -> list[str]:
    """Nodes to keep in float for a scope: ``decode`` (the minimum that works), ``stem`` (also
    ``STEM_MODULES``), ``classes`` (the decode and the class-score branch cv3), ``head`` (the
    whole Detect head), None (nothing)."""
    if scope is None:
        return []
    if scope not in FLOAT_SCOPES:
        raise QuantizationError(f"unknown float scope {scope!r}: one of {FLOAT_SCOPES}")
    prefix = detect_head_prefix(model)
    decode = head_decode_nodes(model)
    kept_prefixes: tuple[str, ...] = ()
    if scope == "stem":
        kept_prefixes = STEM_MODULES
    elif scope == "classes":
        kept_prefixes = (prefix + "cv3.", prefix + "one2one_cv3.")
    elif scope == "head":
        kept_prefixes = (prefix,)
    kept = {node.name for node in model.graph.node if node.name.startswith(kept_prefixes)}
    return [node.name for node in model.graph.node if node.name in kept or node.name in decode]


def pick_calibration_frames(
    datasets: Sequence[Path], count: int, seed: int, split: str = "train"
) -> list[Path]:
    """A seeded mix of training frames: ~1/3 with smoke, ~1/6 fire only, the rest empty.

    A pool that is short leaves its share to the others, so ``count`` frames come back whenever
    the datasets hold that many.
    """
    pools: dict[str, list[Path]] = {"smoke": [], "fire": [], "empty": []}
    for dataset in datasets:
        for item in list_split(dataset, split):
            kind = "smoke" if 0 in item.classes else "fire" if 1 in item.classes else "empty"
            pools[kind].append(item.image)
    quota = {"smoke": round(count * SMOKE_SHARE), "fire": round(count * FIRE_SHARE)}
    quota["empty"] = count - quota["smoke"] - quota["fire"]
    rng = random.Random(seed)
    shuffled = {kind: rng.sample(pool, len(pool)) for kind, pool in pools.items()}
    picked = [path for kind, pool in shuffled.items() for path in pool[: quota[kind]]]
    leftover = [path for kind, pool in shuffled.items() for path in pool[quota[kind] :]]
    picked += leftover[: count - len(picked)]
    if not picked:
        raise QuantizationError(f"no calibration frames in {', '.join(map(str, datasets))}")
    return sorted(picked)


class LetterboxCalibration(CalibrationDataReader):  # type: ignore[misc]
    """Feeds frames through the edge's own letterbox, one (1, 3, H, W) tensor per call.

    ``set_range`` lets onnxruntime calibrate chunk by chunk (``CalibStridedMinMax``): its
    calibrators otherwise keep every activation of every frame in memory before reducing them,
    about 90 MB a frame for yolov5nu at 640 (200 frames: 18 GB, measured, OOM-killed here).
    """

    def __init__(self, frames: Sequence[Path], size: int | InputSize, input_name: str) -> None:
        self._frames = list(frames)
        self._size = InputSize.of(size)
        self._input_name = input_name
        self._iterator: Iterator[dict[str, npt.NDArray[np.float32]]] = iter(())
        self.set_range(0, len(self._frames))

    def _tensors(self, frames: Sequence[Path]) -> Iterator[dict[str, npt.NDArray[np.float32]]]:
        for path in frames:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise QuantizationError(f"calibration frame {path} is not a readable image")
            yield {self._input_name: letterbox(image, self._size)[0]}

    def __len__(self) -> int:
        return len(self._frames)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._iterator = self._tensors(self._frames[start_index:end_index])

    def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
        return next(self._iterator, None)


def quantize_int8(
    fp32: Path,
    out: Path,
    frames: Sequence[Path],
    *,
    method: str = "minmax-ema",
    float_scope: str | None = "decode",
) -> QuantizationResult:
    """Write the INT8 QDQ model of ``fp32`` to ``out``, keeping ``float_scope`` in float.

    ``float_scope=None`` quantizes the whole graph: only the gate test wants that (it is the
    known-broken model the gate must refuse).
    """
    if method not in CALIBRATIONS:
        raise QuantizationError(f"unknown calibration {method!r}: one of {sorted(CALIBRATIONS)}")
    calibrate_method, method_options = CALIBRATIONS[method]
    chunk = min(CALIBRATION_CHUNK, len(frames))
    frames = list(frames)[: len(frames) - len(frames) % chunk] if chunk else []
    if not frames:
        raise QuantizationError("no calibration frames")
    started = time.perf_counter()
    prepared = out.with_name(out.stem + ".pre.onnx")
    # Shape inference and constant folding first; quantize_static otherwise warns and
    # calibrates fewer tensors.
    quant_pre_process(str(fp32), str(prepared))
    model = onnx.load(str(prepared))
    input_name = model.graph.input[0].name
    height_px, width_px = (d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[2:])
    if min(height_px, width_px) <= 0:
        raise QuantizationError(f"{fp32}: input size must be static for INT8 calibration")
    size = InputSize(width_px, height_px)
    excluded = float_nodes(model, float_scope)
    try:
        quantize_static(
            str(prepared),
            str(out),
            LetterboxCalibration(frames, size, input_name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=calibrate_method,
            nodes_to_exclude=excluded,
            extra_options={"CalibStridedMinMax": chunk, **method_options},
        )
    finally:
        prepared.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    logger.info(
        "INT8 %s: %d calibration frames (%s), %d nodes kept float (%s), %.0f s",
        out.name,
        len(frames),
        method,
        len(excluded),
        float_scope or "none",
        seconds,
    )
    return QuantizationResult(out, tuple(excluded), len(frames), method, float_scope, seconds)
