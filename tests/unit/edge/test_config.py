from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import ConfigError, Thresholds, load_config
from edge.detect.registry import load_registry
from tests.support.services import REPO_ROOT
from vigifeu.cli import main

SITE_FILES = sorted((REPO_ROOT / "camera_configs").glob("*.yaml"))
ENV = {
    f"{site}_CAM_{part}": "secret-value"
    for site in ("CABANELLE", "COURMETTES", "VALBONNE")
    for part in ("USER", "PASSWORD")
}


def test_there_are_configs_for_the_three_real_sites() -> None:
    assert {path.stem for path in SITE_FILES} >= {"cabanelle", "courmettes", "valbonne"}


@pytest.mark.parametrize("path", SITE_FILES, ids=lambda p: p.name)
def test_every_shipped_config_is_valid(path: Path) -> None:
    config = load_config(path, ENV)
    assert config.cameras
    assert main(["check-config", "--placeholder-env", str(path)]) == 0


@pytest.mark.parametrize("path", SITE_FILES, ids=lambda p: p.name)
def test_shipped_thresholds_follow_the_model_they_name(path: Path) -> None:
    """A camera's detection and confirmation scores are its model's registered operating point:
    publishing a new default model with another operating score must update the sites too."""
    config = load_config(path, ENV)
    entry = load_registry(REPO_ROOT / "models" / "registry.yaml").get(config.detector.model)
    for camera in config.cameras:
        expected = Thresholds.at_operating_point(
            entry.thresholds.score, camera.thresholds.window_frames
        )
        assert camera.thresholds.detection_score == pytest.approx(expected.detection_score)
        assert camera.thresholds.confirm_score == pytest.approx(expected.confirm_score)


def test_credentials_are_substituted_and_never_shown() -> None:
    config = load_config(REPO_ROOT / "camera_configs" / "cabanelle.yaml", ENV)
    source = config.cameras[0].source
    assert source.kind == "rtsp"
    assert "secret-value" in source.url.get_secret_value()
    assert "secret-value" not in repr(config)
    assert "secret-value" not in source.redacted_url()


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO_ROOT / "camera_configs" / "cabanelle.yaml").read_text()
    assert old in text
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("hfov_deg: 87", "hfov_deg: 270", ["camera 'cam-250'", "'hfov_deg'"]),
        ("cadence_s: 10", "cadence_s: 10\n    colour: red", ["camera 'cam-250'", "'colour'"]),
        ("kind: rtsp", "kind: webcam", ["camera 'cam-250'", "source"]),
        ("latitude_deg:", "latitude_dge:", ["latitude"]),
    ],
)
def test_broken_file_names_file_camera_and_field(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as raised:
        load_config(path, ENV)
    message = str(raised.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_missing_secret_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CABANELLE_CAM_USER"):
        load_config(REPO_ROOT / "camera_configs" / "cabanelle.yaml", {})


def test_check_config_exits_non_zero_on_a_broken_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _broken(tmp_path, "hfov_deg: 87", "hfov_deg: -3")
    assert main(["check-config", "--placeholder-env", str(path)]) == 1
    assert "hfov_deg" in capsys.readouterr().err
