from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from contracts import ModelInfo
from edge.config import Detector as DetectorConfig
from edge.detect import DetectorInputError
from edge.detect.onnx_detector import DetectorLoadError, OnnxDetector, open_detector
from edge.detect.preprocess import InputSize
from edge.detect.registry import file_sha256
from edge.messages import DetectionClass, Frame, FrameDetections
from tests.unit.edge.detect.conftest import frame_with_patch

INFO = ModelInfo(name="tiny", version="1", sha256="0" * 64)


@pytest.fixture(scope="module")
def detector(tiny_model: Path) -> OnnxDetector:
    return OnnxDetector(tiny_model, model_info=INFO, threads=1)


def corners(found: FrameDetections) -> list[tuple[float, ...]]:
    return [(d.x_min, d.y_min, d.x_max, d.y_max) for d in found.detections]


@pytest.mark.parametrize(
    ("width", "height", "patch", "expected"),
    [
        # 640x480 -> scale 0.5, 40 px of padding on top: the patch fills one 40 px model cell.
        (640, 480, (80, 80, 160, 160), (80 / 640, 80 / 480, 160 / 640, 160 / 480)),
        # Portrait: the padding is on the left instead.
        (480, 640, (80, 160, 160, 240), (80 / 480, 160 / 640, 160 / 480, 240 / 640)),
        # Square, no padding, scale 1.
        (320, 320, (200, 40, 240, 80), (200 / 320, 40 / 320, 240 / 320, 80 / 320)),
    ],
)
def test_bright_patch_is_one_smoke_box_at_the_right_place(
    detector: OnnxDetector,
    width: int,
    height: int,
    patch: tuple[int, int, int, int],
    expected: tuple[float, ...],
) -> None:
    [found] = detector.detect([frame_with_patch(width, height, patch)])
    assert corners(found) == [pytest.approx(expected, abs=1e-6)]
    assert found.detections[0].detection_class is DetectionClass.SMOKE
    assert found.detections[0].score > 0.9


@pytest.mark.parametrize(
    ("width", "height", "patch"),
    [
        # 4:3 fills the 320x240 input (scale 0.5, no padding): the patch is one 40 px cell.
        (640, 480, (80, 80, 160, 160)),
        # 16:9 is letterboxed inside the rectangle: scale 1/6, 30 rows of grey above and below.
        (1920, 1080, (240, 60, 480, 300)),
    ],
)
def test_a_rectangular_model_finds_the_patch_where_it_is(
    rectangular_model: Path, width: int, height: int, patch: tuple[int, int, int, int]
) -> None:
    detector = OnnxDetector(rectangular_model, model_info=INFO, threads=1)
    assert detector.input_size == InputSize(320, 240)
    [found] = detector.detect([frame_with_patch(width, height, patch)])
    x0, y0, x1, y1 = patch
    assert corners(found) == [pytest.approx((x0 / width, y0 / height, x1 / width, y1 / height))]


def test_dark_frame_has_no_detection_and_timings(detector: OnnxDetector) -> None:
    [found] = detector.detect([frame_with_patch(640, 480)])
    assert found.detections == ()
    assert found.timings is not None
    assert min(found.timings.preprocess_ms, found.timings.inference_ms) > 0


def test_frames_keep_their_order_and_identity(detector: OnnxDetector) -> None:
    frames = [
        frame_with_patch(640, 480, (80, 80, 160, 160), sequence=1),
        frame_with_patch(640, 480, sequence=2),
        frame_with_patch(320, 320, (0, 0, 40, 40), sequence=3),
    ]
    results = detector.detect(frames)
    assert [r.frame for r in results] == frames
    assert [len(r.detections) for r in results] == [1, 0, 1]
    assert detector.detect([]) == []


@pytest.mark.parametrize("tiles", [1, 2])
@pytest.mark.parametrize("fixture", ["dynamic_batch_model", "static_batch3_model"])
def test_batched_models_give_the_same_answers(
    request: pytest.FixtureRequest, tiny_model: Path, fixture: str, tiles: int
) -> None:
    # 5 frames (25 images with tiles): several chunks, the last one short (padded if static).
    single = OnnxDetector(tiny_model, model_info=INFO, threads=1, tiles=tiles)
    batched = OnnxDetector(
        request.getfixturevalue(fixture), model_info=INFO, threads=1, tiles=tiles
    )
    frames = [
        frame_with_patch(640, 480, (80, 80, 160, 160) if i % 2 else None, sequence=i)
        for i in range(5)
    ]
    expected = [corners(r) for r in single.detect(frames)]
    assert [corners(r) for r in batched.detect(frames)] == expected
    assert [len(c) > 0 for c in expected] == [False, True, False, True, False]


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (np.zeros((0, 0, 3), np.uint8), "too small"),
        (np.zeros((480, 640), np.uint8), "H x W x 3 uint8"),
        (np.zeros((480, 640, 3), np.float32), "H x W x 3 uint8"),
        (np.zeros((480, 640, 4), np.uint8), "H x W x 3 uint8"),
    ],
)
def test_unusable_frame_is_refused_before_anything_runs(
    detector: OnnxDetector, image: np.ndarray, reason: str
) -> None:
    good = frame_with_patch(640, 480, (80, 80, 160, 160), sequence=1)
    bad = replace(good, sequence=2, image=image)
    with pytest.raises(DetectorInputError, match=reason) as error:
        detector.detect([good, bad])
    assert error.value.frame is bad
    assert "frame 2" in str(error.value)
    [after] = detector.detect([good])  # the session is still usable
    assert len(after.detections) == 1


def test_tiles_find_a_plume_too_small_for_the_whole_frame_pass(tiny_model: Path) -> None:
    # 1280x960: the whole-frame pass shrinks the 96 px patch to 24 px, under half a model cell;
    # the top-left tile (768x576, scale 0.417) maps it exactly onto one 40 px cell.
    frame = frame_with_patch(1280, 960, (96, 96, 192, 192))
    whole = OnnxDetector(tiny_model, model_info=INFO, threads=1, tiles=1)
    tiled = OnnxDetector(tiny_model, model_info=INFO, threads=1, tiles=2)
    assert whole.detect([frame])[0].detections == ()
    [found] = tiled.detect([frame])
    assert corners(found) == [pytest.approx((0.075, 0.1, 0.15, 0.2), abs=1e-6)]


def test_tiles_and_whole_frame_duplicates_are_merged(tiny_model: Path) -> None:
    tiled = OnnxDetector(tiny_model, model_info=INFO, threads=1, tiles=2)
    frame = frame_with_patch(320, 320, (0, 0, 160, 160))
    boxes = tiled.detect([frame])[0].detections
    # Every box survived NMS at 0.45 against the others.
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            inter = max(0.0, min(a.x_max, b.x_max) - max(a.x_min, b.x_min)) * max(
                0.0, min(a.y_max, b.y_max) - max(a.y_min, b.y_min)
            )
            union = a.width * a.height + b.width * b.height - inter
            assert inter / union <= 0.45


@pytest.mark.parametrize(
    ("width", "height", "patch"),
    [
        (640, 480, (80, 80, 160, 160)),  # left of centre: its mirror is on the right
        (320, 320, (200, 40, 240, 80)),  # right of centre
    ],
)
def test_the_mirror_view_puts_its_box_back_in_place(
    detector: OnnxDetector,
    tiny_model: Path,
    width: int,
    height: int,
    patch: tuple[int, int, int, int],
) -> None:
    mirroring = OnnxDetector(tiny_model, model_info=INFO, threads=1, mirror=True)
    assert (mirroring.views, detector.views) == (2, 1)
    frame = frame_with_patch(width, height, patch)
    [plain], [both] = detector.detect([frame]), mirroring.detect([frame])
    # A symmetric patch looks the same to the model in both views: the average is that box.
    assert corners(both) == [pytest.approx(corners(plain)[0], abs=1e-6)]
    assert both.detections[0].score == pytest.approx(plain.detections[0].score, abs=1e-6)


def test_the_mirrors_tiles_put_their_boxes_back_in_place_too(tiny_model: Path) -> None:
    # Only the tiles see this 96 px patch (see the tiles test above); in the mirror it lies in
    # the top-right tile, which must be shifted, then mirrored back onto the frame's box.
    frame = frame_with_patch(1280, 960, (96, 96, 192, 192))
    tiled = OnnxDetector(tiny_model, model_info=INFO, threads=1, tiles=2)
    both = OnnxDetector(tiny_model, model_info=INFO, threads=1, tiles=2, mirror=True)
    [alone], [fused] = tiled.detect([frame]), both.detect([frame])
    assert corners(fused) == [pytest.approx((0.075, 0.1, 0.15, 0.2), abs=1e-6)]
    assert fused.detections[0].score == pytest.approx(alone.detections[0].score, abs=1e-6)


def test_a_broken_model_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(DetectorLoadError, match=r"broken\.onnx: cannot load"):
        OnnxDetector(broken, model_info=INFO)


def write_registry(folder: Path, model: Path, **overrides: object) -> Path:
    shutil.copy(model, folder / "tiny.onnx")
    entry = {
        "name": "tiny",
        "version": "1",
        "file": "tiny.onnx",
        "sha256": file_sha256(model),
        "input_size": 320,
        "classes": ["smoke", "fire"],
        "thresholds": {"score": 0.3, "iou": 0.45},
        "format": "onnx-fp32",
        "training_data": "none",
        "licence": "CC0",
    }
    entry.update(overrides)
    path = folder / "registry.yaml"
    path.write_text(yaml.safe_dump({"default": "tiny", "models": [entry]}))
    return path


def test_open_detector_resolves_the_registry_name(tmp_path: Path, tiny_model: Path) -> None:
    registry = write_registry(tmp_path, tiny_model)
    detector = open_detector(DetectorConfig(model="default", registry=registry, threads=1), 0.2)
    assert detector.model_info == ModelInfo(
        name="tiny", version="1", sha256=file_sha256(tiny_model)
    )
    [found] = detector.detect([frame_with_patch(640, 480, (80, 80, 160, 160))])
    assert len(found.detections) == 1


@pytest.mark.parametrize("mirror", [True, False])
def test_open_detector_runs_the_mirror_view_as_configured(
    tmp_path: Path, tiny_model: Path, mirror: bool
) -> None:
    registry = write_registry(tmp_path, tiny_model)
    config = DetectorConfig(registry=registry, threads=1, mirror=mirror)
    assert open_detector(config, 0.2).views == (2 if mirror else 1)
    assert DetectorConfig().mirror  # the edge's default


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"input_size": 640}, "model input is 320x320 px, registry says 640x640"),
        (
            {"input_size": {"width_px": 320, "height_px": 240}},
            "model input is 320x320 px, registry says 320x240",
        ),
        ({"classes": ["fire"]}, "must be"),
    ],
)
def test_open_detector_refuses_a_registry_that_disagrees_with_the_model(
    tmp_path: Path, tiny_model: Path, overrides: dict[str, object], message: str
) -> None:
    registry = write_registry(tmp_path, tiny_model, **overrides)
    with pytest.raises(DetectorLoadError, match=message):
        open_detector(DetectorConfig(registry=registry), 0.2)


def test_open_detector_loads_a_rectangular_entry(tmp_path: Path, rectangular_model: Path) -> None:
    registry = write_registry(
        tmp_path, rectangular_model, input_size={"width_px": 320, "height_px": 240}
    )
    detector = open_detector(DetectorConfig(registry=registry, threads=1), 0.2)
    assert detector.input_size == InputSize(320, 240)


def test_frame_is_not_modified(detector: OnnxDetector) -> None:
    frame: Frame = frame_with_patch(640, 480, (80, 80, 160, 160))
    before = frame.image.copy()
    detector.detect([frame])
    assert np.array_equal(frame.image, before)
