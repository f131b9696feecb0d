"""``vigifeu bench robustness``: the perturbations, and the command on the tiny dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.accuracy import evaluate
from benchmarks.robustness import PERTURBATIONS, Perturbation
from vigifeu.cli import main


def textured_frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    ramp = np.linspace(40, 220, 320)[None, :, None]
    return np.clip(ramp + rng.normal(0, 10, (240, 320, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_a_perturbation_keeps_the_frame_size_changes_pixels_and_repeats(name: str) -> None:
    frame = textured_frame()
    apply = PERTURBATIONS[name].apply
    out = apply(frame, 3)
    assert out.shape == frame.shape
    assert out.dtype == np.uint8
    assert np.abs(out.astype(int) - frame).mean() > 1.0
    assert np.array_equal(apply(frame, 3), out)
    assert np.array_equal(frame, textured_frame())  # the input is left alone


def test_noise_is_drawn_per_frame_and_stronger_compression_changes_more() -> None:
    frame = textured_frame()
    noise = PERTURBATIONS["noise-8"].apply
    assert not np.array_equal(noise(frame, 1), noise(frame, 2))
    assert (noise(frame, 1).astype(int) - frame).std() == pytest.approx(8, abs=0.5)

    def error(name: str) -> float:
        return float(np.abs(PERTURBATIONS[name].apply(frame, 0).astype(int) - frame).mean())

    assert error("jpeg-q20") > error("jpeg-q40")
    brighter = PERTURBATIONS["gamma-0.7"].apply(frame, 0).astype(int)
    darker = PERTURBATIONS["gamma-1.4"].apply(frame, 0).astype(int)
    assert (brighter >= frame).all()
    assert (darker <= frame).all()


def test_the_command_scores_clean_and_perturbed_frames(
    tiny_model: Path, tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A perturbation that leaves nothing to find: its scores must come from perturbed frames.
    blank = Perturbation("jpeg-q20", "blank", lambda image, index: np.zeros_like(image))
    monkeypatch.setitem(PERTURBATIONS, "jpeg-q20", blank)
    out = tmp_path / "out"
    argv = ["bench", "robustness", "--data", str(tiny_dataset), "--model", str(tiny_model)]
    assert main([*argv, "--perturbations", "noise-8", "jpeg-q20", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    clean = evaluate(tiny_model, tiny_dataset, "val")["classes"]["smoke"]
    for key in ("ap50", "precision", "recall", "f1"):
        assert metrics["clean"][key] == pytest.approx(clean[key], abs=1e-6)
    assert list(metrics["perturbed"]) == ["noise-8", "jpeg-q20"]
    for found in metrics["perturbed"].values():
        assert found["ap50_change"] == pytest.approx(found["ap50"] - clean["ap50"], abs=1e-5)
        assert found["recall_change"] == pytest.approx(found["recall"] - clean["recall"], abs=1e-5)
    assert metrics["perturbed"]["jpeg-q20"]["recall"] == 0
    assert metrics["clean"]["recall"] > 0.5
    assert metrics["worst"] == "jpeg-q20"
    report = (out / "report.md").read_text()
    assert "| `noise-8` | sensor noise" in report
    assert "vigifeu bench robustness --data" in report


def test_a_missing_dataset_is_refused_with_exit_2(tiny_model: Path, tmp_path: Path) -> None:
    argv = ["bench", "robustness", "--data", str(tmp_path / "absent.yaml")]
    assert main([*argv, "--model", str(tiny_model), "--out", str(tmp_path / "out")]) == 2
