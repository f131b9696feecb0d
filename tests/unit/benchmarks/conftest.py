"""Fixtures of the benchmark tests: a tiny YOLO dataset (see ``synthetic``) and an untrained
YOLOv8n checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.benchmarks.synthetic import write_tiny_dataset


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data.yaml of the tiny dataset (6 val images, 1 train image)."""
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny_dataset"))


@pytest.fixture(scope="session")
def yolo_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 2-class YOLOv8n (needs the train extra): ``yolo.pt``."""
    pytest.importorskip("ultralytics", reason="needs the train extra")
    import torch
    from ultralytics.nn.tasks import DetectionModel

    folder = tmp_path_factory.mktemp("yolo")
    network = DetectionModel("yolov8n.yaml", nc=2, verbose=False)
    network.names = {0: "smoke", 1: "fire"}
    checkpoint = folder / "yolo.pt"
    torch.save({"model": network, "train_args": {"imgsz": 320, "task": "detect"}}, checkpoint)
    return checkpoint
