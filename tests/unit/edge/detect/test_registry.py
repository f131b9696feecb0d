from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.detect.preprocess import InputSize
from edge.detect.registry import (
    InputRectangle,
    ModelIntegrityError,
    ModelNotFoundError,
    RegisteredModel,
    Registry,
    RegistryError,
    file_sha256,
    load_registry,
    resolve_model,
)


def entry(name: str, sha256: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": name,
        "version": "1.0.0",
        "file": f"{name}.onnx",
        "sha256": sha256,
        "input_size": 320,
        "classes": ["smoke", "fire"],
        "thresholds": {"score": 0.25, "iou": 0.45},
        "parent": None,
        "format": "onnx-fp32",
        "training_data": "synthetic",
        "licence": "CC0",
        "metrics": {"smoke_ap50": 0.9},
        "latency": {"median_ms": 3.0},
    }
    values.update(overrides)
    return values


@pytest.fixture
def registry_path(tmp_path: Path, tiny_model: Path) -> Path:
    shutil.copy(tiny_model, tmp_path / "tiny.onnx")
    shutil.copy(tiny_model, tmp_path / "other.onnx")
    digest = file_sha256(tiny_model)
    path = tmp_path / "registry.yaml"
    path.write_text(
        yaml.safe_dump(
            {"default": "tiny", "models": [entry("tiny", digest), entry("other", digest)]}
        )
    )
    return path


@pytest.mark.parametrize(
    ("name", "expected"), [("default", "tiny"), ("tiny", "tiny"), ("other", "other")]
)
def test_resolve_by_name_checks_the_file(registry_path: Path, name: str, expected: str) -> None:
    resolved = resolve_model(registry_path, name)
    assert resolved.entry.name == expected
    assert resolved.path == registry_path.parent / f"{expected}.onnx"
    assert resolved.info.name == expected
    assert resolved.info.sha256 == file_sha256(resolved.path)


def test_a_modified_file_is_refused_with_both_hashes(registry_path: Path) -> None:
    model = registry_path.parent / "tiny.onnx"
    expected = file_sha256(model)
    model.write_bytes(model.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError) as error:
        resolve_model(registry_path, "default")
    message = str(error.value)
    assert str(model) in message
    assert expected in message
    assert file_sha256(model) in message


def test_unknown_name_and_missing_file(registry_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="'nope' is not in the registry"):
        resolve_model(registry_path, "nope")
    (registry_path.parent / "other.onnx").unlink()
    with pytest.raises(ModelNotFoundError, match=r"other\.onnx"):
        resolve_model(registry_path, "other")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"default": "a", "models": [entry("b", "0" * 64)]}, "default 'a' is not one of"),
        ({"default": "a", "models": [entry("a", "0" * 64), entry("a", "0" * 64)]}, "unique"),
        ({"default": "a", "models": [entry("a", "0" * 64, colour="red")]}, "colour"),
        ({"default": "a", "models": [entry("a", "XYZ")]}, "sha256"),
        ({"default": "a", "models": [entry("a", "0" * 64, format="tflite")]}, "format"),
        ({"default": "a", "models": [entry("a", "0" * 64, input_size=0)]}, "input_size"),
        (
            {"default": "a", "models": [entry("a", "0" * 64, input_size={"width_px": 640})]},
            "input_size",
        ),
        (
            {
                "default": "a",
                "models": [
                    entry("a", "0" * 64, input_size={"width_px": 64, "height_px": 48, "depth": 3})
                ],
            },
            "input_size",
        ),
    ],
)
def test_invalid_registries_are_refused(
    tmp_path: Path, document: dict[str, Any], message: str
) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(RegistryError, match=message):
        load_registry(path)


def test_upsert_replaces_by_name_and_save_round_trips(tmp_path: Path) -> None:
    registry = Registry(default="a", models=[RegisteredModel(**entry("a", "0" * 64))])
    registry.upsert(RegisteredModel(**entry("b", "1" * 64, card="cards/b.md")))
    registry.upsert(RegisteredModel(**entry("a", "2" * 64, version="2.0.0")))
    path = tmp_path / "registry.yaml"
    registry.save(path)
    loaded = load_registry(path)
    assert [model.name for model in loaded.models] == ["b", "a"]
    assert loaded.get("a").version == "2.0.0"
    assert loaded.get("b").card == "cards/b.md"
    assert loaded == registry


@pytest.mark.parametrize(
    ("size", "written"),
    [
        # A square keeps the original schema: a bare int.
        (InputSize(640, 640), 640),
        (InputSize(640, 480), {"width_px": 640, "height_px": 480}),
    ],
)
def test_input_size_is_an_int_for_a_square_and_a_rectangle_otherwise(
    tmp_path: Path, size: InputSize, written: object
) -> None:
    model = RegisteredModel(**entry("a", "0" * 64, input_size=InputRectangle.field_of(size)))
    path = tmp_path / "registry.yaml"
    Registry(default="a", models=[model]).save(path)
    assert yaml.safe_load(path.read_text())["models"][0]["input_size"] == written
    assert load_registry(path).get("a").input_shape == size


def test_the_shipped_registry_loads() -> None:
    folder = Path(__file__).parents[4] / "models"
    registry = load_registry(folder / "registry.yaml")
    assert registry.default in {model.name for model in registry.models}
    for model in registry.models:
        assert (folder / model.file).is_file()
        shape = model.input_shape
        assert shape.width_px % 32 == 0
        assert shape.height_px % 32 == 0
