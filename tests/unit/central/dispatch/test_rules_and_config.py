from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from central.dispatch.config import (
    DispatchConfig,
    DispatchConfigError,
    Retry,
    load_dispatch_config,
    parse_dispatch_config,
)
from central.dispatch.retry import backoff_s, next_attempt_at
from central.dispatch.rules import in_window, route

CONFIG = {
    "timezone": "Europe/Paris",
    "channels": {
        "codis": {"type": "webhook", "url": "http://codis.local/hook"},
        "cap": {"type": "webhook", "url": "http://codis.local/cap", "format": "cap"},
        "astreinte": {
            "type": "email",
            "host": "smtp.local",
            "sender": "vigifeu@sdis06.local",
            "recipients": ["astreinte@sdis06.local"],
        },
        "cta": {"type": "mqtt", "url": "mqtt://cta.local:1883", "topic": "sdis06/cta"},
    },
    "rules": [
        {
            "name": "esterel-jour",
            "massifs": ["Estérel"],
            "hours": "08:00-20:00",
            "channels": ["astreinte"],
        },
        {"name": "nuit", "hours": "20:00-08:00", "channels": ["cta"]},
        {"name": "grasse", "communes": ["Grasse"], "channels": ["cap", "codis"]},
        {"name": "toujours", "channels": ["codis"]},
    ],
    "escalation": {"after_s": 300, "channels": ["astreinte"]},
}


@pytest.mark.parametrize(
    ("local", "window", "expected"),
    [
        (time(8, 0), (time(8), time(20)), True),  # start is inside
        (time(20, 0), (time(8), time(20)), False),  # end is outside
        (time(23, 30), (time(20), time(8)), True),  # window across midnight, evening side
        (time(3, 0), (time(20), time(8)), True),  # ... morning side
        (time(12, 0), (time(20), time(8)), False),
    ],
)
def test_in_window(local: time, window: tuple[time, time], expected: bool) -> None:
    assert in_window(local, window) is expected


@pytest.mark.parametrize(
    ("massif", "commune", "utc", "expected"),
    [
        # 10:00 UTC is 12:00 in Paris in July: day rule for the Esterel, accents ignored.
        (
            "Esterel",
            "Mandelieu-la-Napoule",
            datetime(2025, 7, 1, 10, tzinfo=UTC),
            ("astreinte", "codis"),
        ),
        # 19:30 UTC is 21:30 in Paris: the night rule, not the day rule.
        ("Estérel", None, datetime(2025, 7, 1, 19, 30, tzinfo=UTC), ("cta", "codis")),
        # Commune rule contributes in its own order; "codis" is not repeated.
        (None, "grasse", datetime(2025, 7, 1, 10, tzinfo=UTC), ("cap", "codis")),
        # Nothing known about the place: only the catch-all (and time) rules.
        (None, None, datetime(2025, 1, 1, 12, tzinfo=UTC), ("codis",)),
    ],
)
def test_route(
    massif: str | None, commune: str | None, utc: datetime, expected: tuple[str, ...]
) -> None:
    assert route(DispatchConfig.model_validate(CONFIG), massif, commune, utc) == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rules": [{"name": "x", "channels": ["nope"]}]}, "unknown channel 'nope'"),
        ({"escalation": {"channels": ["nope"]}}, "escalation: unknown channel"),
        ({"rules": [{"name": "x", "hours": "8h-20h", "channels": ["codis"]}]}, "HH:MM-HH:MM"),
        ({"rules": [{"name": "x", "hours": "25:00-08:00", "channels": ["codis"]}]}, "25:00"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"channels": {"x": {"type": "webhook", "url": "ftp://a"}}}, "http"),
        (
            {"channels": {"x": {"type": "mqtt", "url": "mqtt://h", "topic": "a/#"}}},
            "channels.x.mqtt.topic",
        ),
        ({"channels": {"x": {"type": "pager"}}}, "channels.x"),
    ],
)
def test_bad_config_is_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(DispatchConfigError) as error:
        parse_dispatch_config({**CONFIG, **change}, "dispatch.yaml")
    assert message in str(error.value)
    assert str(error.value).startswith("dispatch.yaml: ")


def test_load_reports_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dispatch.yaml"
    path.write_text("channels: [unclosed\n")
    with pytest.raises(DispatchConfigError, match=r"dispatch\.yaml"):
        load_dispatch_config(path)


def test_secrets_are_not_printed() -> None:
    config = parse_dispatch_config(
        {
            "channels": {
                "m": {
                    "type": "email",
                    "host": "h",
                    "sender": "a@b",
                    "recipients": ["c@d"],
                    "password": "hunter2-secret",
                }
            }
        },
        "x",
    )
    assert "hunter2-secret" not in repr(config)


@pytest.mark.parametrize(
    ("attempt", "expected_s"),
    [(1, 2.0), (2, 4.0), (3, 8.0), (7, 100.0), (1000, 100.0)],  # capped, no overflow
)
def test_backoff(attempt: int, expected_s: float) -> None:
    assert (
        backoff_s(Retry(first_delay_s=2, max_delay_s=100, max_attempts=10), attempt) == expected_s
    )


def test_attempts_run_out() -> None:
    policy = Retry(max_attempts=3, first_delay_s=1, max_delay_s=10)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert next_attempt_at(policy, 2, now) is not None
    assert next_attempt_at(policy, 3, now) is None
