from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from contracts import ModelInfo
from edge.detect import Detector, DetectorInputError
from edge.detect.scripted import SCRIPTED_MODEL_INFO, ScriptedDetector
from edge.messages import Detection, DetectionClass
from tests.unit.edge.detect.conftest import frame_with_patch

PLUME = Detection(0.1, 0.2, 0.3, 0.4, 0.8, DetectionClass.SMOKE)


def test_replays_by_sequence_number() -> None:
    detector: Detector = ScriptedDetector({2: [PLUME]})
    frames = [frame_with_patch(64, 48, sequence=i) for i in range(4)]
    results = detector.detect(frames)
    assert [r.detections for r in results] == [(), (), (PLUME,), ()]
    assert [r.frame for r in results] == frames
    assert detector.model_info == SCRIPTED_MODEL_INFO


def test_per_camera_scripts_and_custom_model_info() -> None:
    info = ModelInfo(name="replay", version="2", sha256="a" * 64)
    detector = ScriptedDetector.per_camera({"north": {1: [PLUME]}}, model_info=info)
    north = frame_with_patch(64, 48, sequence=1, camera_id="north")
    south = frame_with_patch(64, 48, sequence=1, camera_id="south")
    assert [r.detections for r in detector.detect([north, south])] == [(PLUME,), ()]
    assert detector.model_info is info
    assert detector.frames_seen == 2


def test_refuses_unusable_frames_like_the_real_detector() -> None:
    detector = ScriptedDetector(lambda frame: [PLUME])
    bad = replace(frame_with_patch(64, 48), image=np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(DetectorInputError):
        detector.detect([bad])
    assert detector.frames_seen == 0
