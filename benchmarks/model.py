"""Which model a benchmark runs: a registry name, or a bare ``.onnx`` file for experiments.

Both end up in the edge's own ``OnnxDetector`` (same letterbox, session settings, decode and NMS),
so a benchmark measures exactly what a camera site runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contracts import ModelInfo
from edge.detect.registry import (
    RegisteredModel,
    file_sha256,
    load_registry,
    resolve_model,
)

DEFAULT_REGISTRY = Path("models/registry.yaml")
# Operating point of a bare .onnx file, which has no registry entry to say it: ultralytics'
# predict() score default (0.25), and the NMS IoU that OnnxDetector uses by default.
UNREGISTERED_SCORE_THRESHOLD = 0.25
UNREGISTERED_IOU_THRESHOLD = 0.45


@dataclass(frozen=True, slots=True)
class BenchModel:
    path: Path
    info: ModelInfo
    score_threshold: float
    iou_threshold: float
    entry: RegisteredModel | None  # None for a bare .onnx file
    registry: Path | None


def load_model(model: str | Path, registry: Path = DEFAULT_REGISTRY) -> BenchModel:
    """A bare ``.onnx`` path as given, else the registry entry (sha256 checked)."""
    candidate = Path(model)
    if candidate.suffix == ".onnx":
        if not candidate.is_file():
            raise FileNotFoundError(f"{candidate}: no such model file")
        info = ModelInfo(name=candidate.stem, version="unregistered", sha256=file_sha256(candidate))
        return BenchModel(
            candidate,
            info,
            UNREGISTERED_SCORE_THRESHOLD,
            UNREGISTERED_IOU_THRESHOLD,
            None,
            None,
        )
    resolved = resolve_model(registry, str(model))
    thresholds = resolved.entry.thresholds
    return BenchModel(
        resolved.path, resolved.info, thresholds.score, thresholds.iou, resolved.entry, registry
    )


def parent_model(model: BenchModel) -> BenchModel | None:
    """The registered model this one derives from (the FP32 parent of an INT8 file), if any."""
    if model.entry is None or model.entry.parent is None or model.registry is None:
        return None
    names = {entry.name for entry in load_registry(model.registry).models}
    if model.entry.parent not in names:
        return None
    return load_model(model.entry.parent, model.registry)


def pytorch_checkpoint(model: BenchModel) -> Path | None:
    """The PyTorch ``.pt`` beside an ONNX file (same stem), which ultralytics can run."""
    checkpoint = model.path.with_suffix(".pt")
    return checkpoint if checkpoint.is_file() else None
