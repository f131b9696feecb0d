from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

from central import main
from central.settings import CentralSettings

SECRET = "a-long-enough-test-secret"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("VIGIFEU_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = CentralSettings(secret_key=SECRET)  # type: ignore[arg-type]
    assert settings.database_url == "sqlite:///var/vigifeu.sqlite3"
    assert (settings.share_group, settings.instance_id) == ("vigifeu-central", "central-1")


@pytest.mark.parametrize("secret", [None, "change-me", "short"])
def test_the_placeholder_or_a_short_secret_is_refused_outside_dev(secret: str | None) -> None:
    kwargs = {} if secret is None else {"secret_key": secret}
    with pytest.raises(ValidationError, match="VIGIFEU_SECRET_KEY"):
        CentralSettings(**kwargs)  # type: ignore[arg-type]


def test_the_placeholder_is_allowed_in_dev() -> None:
    assert CentralSettings(environment="dev").secret_key.get_secret_value() == "change-me"


def test_the_environment_is_read_when_built_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIFEU_ENVIRONMENT", "dev")
    monkeypatch.setenv("VIGIFEU_PORT", "9090")
    monkeypatch.setenv("VIGIFEU_DATABASE_URL", "postgresql://db/vigifeu")
    settings = CentralSettings()
    assert (settings.port, settings.database_url) == (9090, "postgresql://db/vigifeu")


@pytest.mark.parametrize("url", ["http://broker:1883", "broker:1883", "mqtt://"])
def test_bad_mqtt_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="mqtt_url"):
        CentralSettings(environment="dev", mqtt_url=url)


def test_the_secret_is_not_shown() -> None:
    assert SECRET not in repr(CentralSettings(secret_key=SECRET))  # type: ignore[arg-type]


def test_command_line_options_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIFEU_ENVIRONMENT", "dev")
    monkeypatch.setenv("VIGIFEU_PORT", "9090")
    parser = argparse.ArgumentParser()
    main.add_arguments(parser)
    args = parser.parse_args(["--db", "sqlite:///x.db", "--mqtt", "mqtt://h:1", "--port", "8181"])
    settings = main.settings_from(args)
    assert (settings.database_url, settings.mqtt_url, settings.port) == (
        "sqlite:///x.db",
        "mqtt://h:1",
        8181,
    )


def test_run_refuses_to_start_with_the_placeholder_secret(caplog: pytest.LogCaptureFixture) -> None:
    parser = argparse.ArgumentParser()
    main.add_arguments(parser)
    assert main.run(parser.parse_args([])) == 2
    assert "VIGIFEU_SECRET_KEY" in caplog.text
