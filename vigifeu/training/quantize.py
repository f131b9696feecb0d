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
from typing import Literal

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

from edge.detect.preprocess import letterbox
from vigifeu.training.data import list_split

logger = logging.getLogger(__name__)

# The Detect head's per-level convolution branches: box (cv2) and class (cv3), plus the
# one-to-one copies of end-to-end heads. Everything else under the head's prefix is decode.
HEAD_BRANCHES = ("/cv2.", "/cv3.", "/one2one_cv2.", "/one2one_cv3.")
_MODULE_INDEX = re.compile(r"^/model\.(\d+)/")
CALIBRATION_METHODS: dict[str, CalibrationMethod] = {
    "minmax": CalibrationMethod.MinMax,
    "percentile": CalibrationMethod.Percentile,
    "entropy": CalibrationMethod.Entropy,
}
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
    """Feeds frames through the edge's own letterbox, one (1, 3, S, S) tensor per call."""

    def __init__(self, frames: Sequence[Path], size: int, input_name: str) -> None:
        self._frames = list(frames)
        self._size = size
        self._input_name = input_name
        self._iterator: Iterator[dict[str, npt.NDArray[np.float32]]] = self._tensors()

    def _tensors(self) -> Iterator[dict[str, npt.NDArray[np.float32]]]:
        for path in self._frames:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                logger.warning("calibration frame %s is not readable, skipped", path)
                continue
            yield {self._input_name: letterbox(image, self._size)[0]}

    def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
        return next(self._iterator, None)

    def rewind(self) -> None:
        self._iterator = self._tensors()


def quantize_int8(
    fp32: Path,
    out: Path,
    frames: Sequence[Path],
    *,
    method: Literal["minmax", "percentile", "entropy"] = "minmax",
    keep_head_float: bool = True,
) -> QuantizationResult:
    """Write the INT8 QDQ model of ``fp32`` to ``out``.

    ``keep_head_float=False`` quantizes the whole graph: only the gate test wants that (it is the
    known-broken model the gate must refuse).
    """
    started = time.perf_counter()
    prepared = out.with_name(out.stem + ".pre.onnx")
    # Shape inference and constant folding first; quantize_static otherwise warns and
    # calibrates fewer tensors.
    quant_pre_process(str(fp32), str(prepared))
    model = onnx.load(str(prepared))
    input_name = model.graph.input[0].name
    size = model.graph.input[0].type.tensor_type.shape.dim[2].dim_value
    if size <= 0:
        raise QuantizationError(f"{fp32}: input size must be static for INT8 calibration")
    excluded = head_decode_nodes(model) if keep_head_float else []
    reader = LetterboxCalibration(frames, size, input_name)
    try:
        quantize_static(
            str(prepared),
            str(out),
            reader,
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CALIBRATION_METHODS[method],
            nodes_to_exclude=excluded,
        )
    finally:
        prepared.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    logger.info(
        "INT8 %s: %d calibration frames (%s), %d head nodes kept float, %.0f s",
        out.name,
        len(frames),
        method,
        len(excluded),
        seconds,
    )
    return QuantizationResult(out, tuple(excluded), len(frames), method, seconds)
