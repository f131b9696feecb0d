"""Batch-capable tiny detectors (tests/support/tiny_model.py) and frames for the detector tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from edge.messages import Frame
from tests.support.tiny_model import build_tiny_detector

T0 = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def dynamic_batch_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_detector(tmp_path_factory.mktemp("models") / "dyn.onnx", "batch")


@pytest.fixture(scope="session")
def static_batch3_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_detector(tmp_path_factory.mktemp("models") / "b3.onnx", 3)


def frame_with_patch(
    width: int,
    height: int,
    patch: tuple[int, int, int, int] | None = None,
    *,
    sequence: int = 0,
    camera_id: str = "cam-1",
) -> Frame:
    """A dark BGR frame with an optional bright grey (x0, y0, x1, y1) patch: the tiny model's smoke."""
    image = np.full((height, width, 3), 30, np.uint8)
    if patch is not None:
        x0, y0, x1, y1 = patch
        image[y0:y1, x0:x1] = 230
    return Frame(camera_id, None, sequence, T0 + timedelta(seconds=10 * sequence), image)
