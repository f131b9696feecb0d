"""Landmark calibration (research note §7.1) and ``vigifeu calibrate``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from central.geo import calibrate_cli
from central.geo.calibrate import CalibrationError, Landmark, fit_camera, true_direction
from central.geo.camera_model import CameraModel
from contracts import CameraGeometry, LensModel
from tests.unit.central.geo.support import CABANELLE, SQUARE_87

# §7.1: three peaks north of cabanelle (OSM positions and surveyed heights).
PEAKS = [
    ("Cime du Simon", 7.393853, 43.928713, 1489.0),
    ("Tête de Barlou", 7.392199, 43.926735, 1422.0),
    ("La Cime", 7.398316, 43.945604, 1317.0),
]
# Spread across the frame for roll and the lens: summits and made-up masts at known heights.
SPREAD = [
    *PEAKS,
    ("Mont Gros", 7.46405, 43.913479, 1272.0),
    ("Cime de Penas", 7.404476, 43.903654, 1018.0),
    ("mast west", 7.30, 43.90, 1100.0),
    ("mast east", 7.52, 43.89, 1000.0),
    ("Mont Agaisen", 7.454068, 43.887249, 751.0),
]


def camera(
    heading: float, tilt: float, roll: float, k1: float = 0.0, height: int = 720
) -> CameraGeometry:
    return CameraGeometry(
        latitude_deg=CABANELLE.latitude_deg,
        longitude_deg=CABANELLE.longitude_deg,
        lens_altitude_m=CABANELLE.altitude_m,
        azimuth_deg=heading,
        tilt_deg=tilt,
        roll_deg=roll,
        hfov_deg=87,
        vfov_deg=SQUARE_87,
        image_width_px=1280,
        image_height_px=height,
        lens=LensModel(k1=k1),
    )


def observe(
    truth: CameraGeometry, peaks: list[tuple[str, float, float, float]], noise_px: float = 0.0
) -> list[Landmark]:
    model = CameraModel.from_geometry(truth)
    rng = np.random.default_rng(1)
    landmarks = []
    for name, lon, lat, height in peaks:
        azimuth, elevation, _ = true_direction(CABANELLE, Landmark(name, 0, 0, lon, lat, height))
        u, v = model.direction_to_pixel(azimuth, elevation)
        du, dv = rng.normal(0, noise_px, 2) if noise_px else (0.0, 0.0)
        landmarks.append(Landmark(name, float(u) + du, float(v) + dv, lon, lat, height))
    return landmarks


def test_three_peaks_of_the_research_note() -> None:
    """Truth 359.30 / -0.10 / +0.40 deg, pixels to 0.1 px: heading and tilt come back, roll only
    roughly (the three peaks are within 30 px of each other)."""
    truth = camera(359.30, -0.10, 0.40)
    landmarks = [
        Landmark(
            m.name,
            round(m.u_px, 1),
            round(m.v_px, 1),
            m.longitude_deg,
            m.latitude_deg,
            m.altitude_m,
        )
        for m in observe(truth, PEAKS)
    ]
    assert [round(m.u_px, 1) for m in landmarks] == [559.9, 552.9, 583.0]
    result = fit_camera(camera(358.0, 0.5, 0.0), landmarks)
    assert result.heading_deg == pytest.approx(359.30, abs=0.01)
    assert result.tilt_deg == pytest.approx(-0.10, abs=0.01)
    assert result.roll_deg == pytest.approx(0.40, abs=0.15)
    assert result.rms_deg < 0.01
    assert result.drift is not None
    assert "heading moved" in result.drift


def test_spread_landmarks_fit_roll_and_lens() -> None:
    truth = camera(5.0, -1.0, 0.6, k1=-0.05, height=1000)
    landmarks = observe(truth, SPREAD, noise_px=0.3)
    result = fit_camera(camera(6.0, 0.0, 0.0, k1=0.0, height=1000), landmarks)
    assert result.lens_fitted
    assert result.heading_deg == pytest.approx(5.0, abs=0.03)
    assert result.tilt_deg == pytest.approx(-1.0, abs=0.03)
    assert result.roll_deg == pytest.approx(0.6, abs=0.1)
    assert result.k1 == pytest.approx(-0.05, abs=0.02)
    assert len(result.residuals) == len(SPREAD)


def test_stored_pose_that_still_fits_is_not_drift() -> None:
    truth = camera(10.0, -0.5, 0.2)
    result = fit_camera(truth, observe(truth, SPREAD[:5], noise_px=0.2), fit_lens=False)
    assert result.drift is None
    assert result.stored_rms_deg < 0.05


def test_too_few_landmarks() -> None:
    with pytest.raises(CalibrationError, match="at least 2"):
        fit_camera(camera(0, 0, 0), observe(camera(0, 0, 0), PEAKS[:1]))
    with pytest.raises(CalibrationError, match="needs 6"):
        fit_camera(camera(0, 0, 0), observe(camera(0, 0, 0), PEAKS), fit_lens=True)


def run_cli(tmp_path: Path, document: dict[str, object]) -> tuple[int, Path]:
    landmarks = tmp_path / "landmarks.yaml"
    landmarks.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    parser = argparse.ArgumentParser()
    calibrate_cli.add_arguments(parser)
    out = tmp_path / "result.json"
    return calibrate_cli.run(
        parser.parse_args(["--landmarks", str(landmarks), "--out", str(out)])
    ), out


def test_cli_looks_peaks_up_and_flags_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = camera(359.30, -0.10, 0.40)
    observed = observe(truth, SPREAD[:5])
    entries = [{"name": m.name, "u_px": m.u_px, "v_px": m.v_px} for m in observed[:4]]
    last = observed[4]
    entries.append(
        {
            "name": "a mast",
            "u_px": last.u_px,
            "v_px": last.v_px,
            "latitude_deg": last.latitude_deg,
            "longitude_deg": last.longitude_deg,
            "altitude_m": last.altitude_m,
        }
    )
    stored = json.loads(camera(357.0, -0.10, 0.40).model_dump_json())
    status, out = run_cli(tmp_path, {"camera": stored, "landmarks": entries})
    assert status == calibrate_cli.EXIT_DRIFT
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["heading_deg"] == pytest.approx(359.30, abs=0.02)
    assert "DRIFT" in capsys.readouterr().out


def test_cli_unknown_peak_is_bad_input(tmp_path: Path) -> None:
    stored = json.loads(camera(0, 0, 0).model_dump_json())
    landmarks = [
        {"name": "Nowhere", "u_px": 1, "v_px": 1},
        {"name": "Cime du Simon", "u_px": 2, "v_px": 2},
    ]
    status, _ = run_cli(tmp_path, {"camera": stored, "landmarks": landmarks})
    assert status == calibrate_cli.EXIT_BAD_INPUT


def test_cli_reads_the_site_file(tmp_path: Path) -> None:
    """Geometry from camera_configs/cabanelle.yaml (no credentials needed), peaks by name."""
    site_file = Path(__file__).resolve().parents[4] / "camera_configs" / "cabanelle.yaml"
    landmarks = tmp_path / "landmarks.yaml"
    entries = [
        {"name": name, "u_px": 900 + 40 * i, "v_px": 500} for i, (name, *_) in enumerate(PEAKS)
    ]
    landmarks.write_text(
        yaml.safe_dump({"landmarks": entries}, allow_unicode=True), encoding="utf-8"
    )
    parser = argparse.ArgumentParser()
    calibrate_cli.add_arguments(parser)
    out = tmp_path / "result.json"
    argv = ["--landmarks", str(landmarks), "--config", str(site_file), "--camera", "cam-330"]
    status = calibrate_cli.run(
        parser.parse_args([*argv, "--image-size", "1920x1080", "--out", str(out)])
    )
    assert status in {0, calibrate_cli.EXIT_DRIFT}
    result = json.loads(out.read_text(encoding="utf-8"))
    assert 340 < result["heading_deg"] < 360 or result["heading_deg"] < 10  # peaks lie north


def test_cli_site_file_needs_the_image_size(tmp_path: Path) -> None:
    site_file = Path(__file__).resolve().parents[4] / "camera_configs" / "cabanelle.yaml"
    landmarks = tmp_path / "landmarks.yaml"
    landmarks.write_text(yaml.safe_dump({"landmarks": []}), encoding="utf-8")
    parser = argparse.ArgumentParser()
    calibrate_cli.add_arguments(parser)
    argv = ["--landmarks", str(landmarks), "--config", str(site_file), "--camera", "cam-330"]
    assert calibrate_cli.run(parser.parse_args(argv)) == calibrate_cli.EXIT_BAD_INPUT
