"""The model registry (``models/registry.yaml``): which ONNX files exist and which one is the default.

The edge loads a model by name and refuses a file whose sha256 differs from the registry, so a
half-copied or swapped file never runs silently. Paths in the registry are relative to its folder.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    model_validator,
)

from contracts import ModelInfo
from edge.detect.preprocess import InputSize

DEFAULT_NAME = "default"

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
UnitInterval = Annotated[float, Field(ge=0.0, le=1.0)]


class RegistryError(ValueError):
    """A registry file that cannot be read or does not follow the schema."""


class ModelNotFoundError(RegistryError):
    """The requested model name is not in the registry."""


class ModelIntegrityError(RegistryError):
    """The model file's sha256 is not the one the registry records."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OperatingThresholds(_Strict):
    score: UnitInterval = Field(description="Operating score threshold the val metrics are at")
    iou: UnitInterval = Field(description="NMS IoU threshold")


class InputRectangle(_Strict):
    """A non-square static input, e.g. 640 x 480 for 4:3 cameras (a square one is a bare int)."""

    width_px: int = Field(gt=0)
    height_px: int = Field(gt=0)

    @staticmethod
    def field_of(size: InputSize) -> int | InputRectangle:
        """How the registry writes ``size``: a bare int for a square (the original schema)."""
        if size.is_square:
            return size.width_px
        return InputRectangle(width_px=size.width_px, height_px=size.height_px)


class RegisteredModel(_Strict):
    name: str = Field(min_length=1, max_length=128)
    version: str = Field(min_length=1, max_length=64)
    file: str = Field(min_length=1, description="ONNX file, relative to the registry's folder")
    sha256: Sha256Hex
    input_size: PositiveInt | InputRectangle = Field(
        description="Static input: square side in pixels, or {width_px, height_px}"
    )
    classes: list[str] = Field(min_length=1)
    thresholds: OperatingThresholds
    parent: str | None = Field(default=None, description="Model this one was derived from")
    format: Literal["onnx-fp32", "onnx-int8"]
    training_data: str
    licence: str
    metrics: dict[str, Any] = Field(default_factory=dict, description="Validation metrics")
    latency: dict[str, Any] = Field(default_factory=dict)
    card: str | None = Field(default=None, description="Model card, relative to the registry")

    @property
    def input_shape(self) -> InputSize:
        size = self.input_size
        return InputSize.of(size) if isinstance(size, int) else InputSize(**size.model_dump())

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name=self.name, version=self.version, sha256=self.sha256)


class Registry(_Strict):
    default: str
    models: list[RegisteredModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [model.name for model in self.models]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"model names must be unique, repeated: {', '.join(repeated)}")
        if self.models and self.default not in names:
            raise ValueError(f"default {self.default!r} is not one of the models: {names}")
        return self

    def get(self, name: str) -> RegisteredModel:
        """The entry called ``name``; ``"default"`` means the registry's default model."""
        wanted = self.default if name == DEFAULT_NAME else name
        for model in self.models:
            if model.name == wanted:
                return model
        known = ", ".join(model.name for model in self.models) or "none"
        raise ModelNotFoundError(f"model {wanted!r} is not in the registry (known: {known})")

    def upsert(self, entry: RegisteredModel) -> None:
        """Add ``entry``, or replace the entry with the same name, in place."""
        self.models = [model for model in self.models if model.name != entry.name] + [entry]

    def save(self, path: Path) -> None:
        """Write the registry as YAML, atomically (a reader never sees half a file)."""
        text = yaml.safe_dump(
            self.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
        )
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    path: Path
    entry: RegisteredModel
    info: ModelInfo


def load_registry(path: Path) -> Registry:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RegistryError(f"{path}: cannot read the model registry: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise RegistryError(f"{path}: not valid YAML: {error}") from None
    try:
        return Registry.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "<root>"
        raise RegistryError(f"{path}: {where}: {first['msg']}") from None


def file_sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def resolve_model(registry_path: Path, name: str) -> ResolvedModel:
    """Find ``name`` (or ``"default"``) and check the file's sha256 against the registry."""
    entry = load_registry(registry_path).get(name)
    path = registry_path.parent / entry.file
    try:
        actual = file_sha256(path)
    except OSError as error:
        raise ModelNotFoundError(
            f"{path}: model file of {entry.name!r} cannot be read: {error.strerror}"
        ) from None
    if actual != entry.sha256:
        raise ModelIntegrityError(
            f"{path}: sha256 mismatch for model {entry.name!r}: "
            f"registry expects {entry.sha256}, file has {actual}"
        )
    return ResolvedModel(path=path, entry=entry, info=entry.info)
