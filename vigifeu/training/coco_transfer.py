"""Load the original YOLOv5 COCO checkpoint without the YOLOv5 code, and map it onto ultralytics.

``yolov5n.pt`` is a pickle that refers to classes of the YOLOv5 repository (``models.yolo.Model``,
``models.common.C3``...). Installing that repository only to read tensors would pull its code onto
our path, so a restricted unpickler replaces every YOLOv5 class by a stand-in that only keeps its
state, and refuses any class outside an allow-list (a pickle can otherwise run arbitrary code).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch

_YOLOV5_MODULE_PREFIXES = ("models.", "utils.")
_ALLOWED_MODULE_PREFIXES = ("torch", "collections", "numpy", "_codecs", "builtins", "__builtin__")


class _StandIn:
    """Replaces a YOLOv5 class: keeps the pickled state and nothing else."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        self.state = state if isinstance(state, dict) else {"_raw": state}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(_YOLOV5_MODULE_PREFIXES) or module in ("models", "utils"):
            return type(name, (_StandIn,), {"__module__": "vigifeu.standin." + module})
        if module.startswith(_ALLOWED_MODULE_PREFIXES):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a checkpoint")


class _RestrictedPickleModule:
    """What ``torch.load(pickle_module=...)`` needs: an ``Unpickler`` and ``load``."""

    Unpickler = _RestrictedUnpickler
    __name__ = "vigifeu_restricted_pickle"

    @staticmethod
    def load(file: IO[bytes], **kwargs: Any) -> Any:
        return _RestrictedUnpickler(file, **kwargs).load()


def _collect_tensors(node: Any, prefix: str, out: dict[str, torch.Tensor]) -> None:
    """Walk nn.Module-like state (real modules or stand-ins) and collect parameters and buffers."""
    state = node.state if isinstance(node, _StandIn) else getattr(node, "__dict__", {})
    for kind in ("_parameters", "_buffers"):
        for name, tensor in (state.get(kind) or {}).items():
            if tensor is not None:
                out[prefix + name] = tensor.detach().float()
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            _collect_tensors(child, f"{prefix}{name}.", out)


def load_yolov5_state_dict(checkpoint: Path) -> dict[str, torch.Tensor]:
    """Tensors of the ``model`` (EMA if present) of a YOLOv5 checkpoint, keyed like its state dict."""
    blob = torch.load(
        checkpoint,
        map_location="cpu",
        pickle_module=_RestrictedPickleModule,
        weights_only=False,
    )
    root = blob.get("ema") or blob["model"]
    tensors: dict[str, torch.Tensor] = {}
    _collect_tensors(root, "", tensors)
    if not tensors:
        raise ValueError(f"{checkpoint}: no tensors found in the checkpoint's model")
    return tensors


@dataclass(frozen=True, slots=True)
class TransferReport:
    target: str
    source_tensors: int
    target_tensors: int
    transferred: int

    def __str__(self) -> str:
        return (
            f"{self.target}: {self.transferred}/{self.target_tensors} target tensors transferred "
            f"from {self.source_tensors} source tensors"
        )


def transfer_into(
    model: torch.nn.Module, source: dict[str, torch.Tensor], target: str
) -> TransferReport:
    """Copy every source tensor whose name and shape match into ``model`` (in place)."""
    target_state = model.state_dict()
    matched = {
        name: tensor.to(target_state[name].dtype)
        for name, tensor in source.items()
        if name in target_state and target_state[name].shape == tensor.shape
    }
    model.load_state_dict(matched, strict=False)
    return TransferReport(target, len(source), len(target_state), len(matched))
