"""A detector that replays canned detections: the fake of ``OnnxDetector`` for tests and benchmarks.

The script is either a mapping from frame sequence number to that frame's detections (the same
for every camera; missing numbers mean nothing found) or a function of the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from contracts import ModelInfo
from edge.detect import check_frame
from edge.messages import Detection, Frame, FrameDetections

SCRIPTED_MODEL_INFO = ModelInfo(name="scripted", version="0", sha256="0" * 64)

Script = Mapping[int, Sequence[Detection]] | Callable[[Frame], Sequence[Detection]]


class ScriptedDetector:
    def __init__(self, script: Script, *, model_info: ModelInfo = SCRIPTED_MODEL_INFO) -> None:
        self._script = script
        self._model_info = model_info
        self.frames_seen = 0

    @classmethod
    def per_camera(
        cls,
        scripts: Mapping[str, Mapping[int, Sequence[Detection]]],
        *,
        model_info: ModelInfo = SCRIPTED_MODEL_INFO,
    ) -> ScriptedDetector:
        """One sequence-number script per camera id; unknown cameras find nothing."""

        def lookup(frame: Frame) -> Sequence[Detection]:
            return scripts.get(frame.camera_id, {}).get(frame.sequence, ())

        return cls(lookup, model_info=model_info)

    @property
    def model_info(self) -> ModelInfo:
        return self._model_info

    def _answer(self, frame: Frame) -> tuple[Detection, ...]:
        if callable(self._script):
            return tuple(self._script(frame))
        return tuple(self._script.get(frame.sequence, ()))

    def detect(self, frames: Sequence[Frame]) -> list[FrameDetections]:
        """Same contract as ``OnnxDetector.detect``, including ``DetectorInputError``."""
        for frame in frames:
            check_frame(frame)
        self.frames_seen += len(frames)
        return [FrameDetections(frame, self._answer(frame)) for frame in frames]
