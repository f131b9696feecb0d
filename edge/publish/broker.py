"""Where the edge publishes: the broker address from ``--mqtt`` and credentials from the env."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Broker:
    """Where to publish. ``password`` is never logged; ``describe()`` is safe for logs."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str, username: str | None, password: str | None) -> Broker:
    """``mqtt://host[:1883]`` or ``mqtts://host[:8883]``; credentials come separately (env)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"broker URL must be mqtt://HOST:PORT or mqtts://HOST:PORT, not {url!r}")
    if parts.username or parts.password:
        raise ValueError("put broker credentials in VIGIFEU_MQTT_USERNAME/PASSWORD, not the URL")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ValueError(f"broker URL {url!r} has an invalid port") from None
    return Broker(parts.hostname, port, tls, username or None, password or None)
