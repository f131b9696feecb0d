"""Dispatch configuration: channels, routing rules, escalation and retries (one YAML file).

Example (``docs/console.md`` has the full reference)::

    timezone: Europe/Paris
    channels:
      codis-json: {type: webhook, url: "https://codis.example/vigifeu", format: json}
      codis-cap: {type: webhook, url: "https://codis.example/cap", format: cap}
      astreinte: {type: email, host: smtp.example, port: 587, starttls: true,
                  sender: vigifeu@sdis06.example, recipients: [astreinte@sdis06.example]}
      cta-mqtt: {type: mqtt, url: "mqtt://broker:1883", topic: sdis06/cta/vigifeu}
    rules:
      - {name: esterel-jour, massifs: ["Estérel"], hours: "08:00-20:00", channels: [astreinte]}
      - {name: toujours, channels: [codis-json, codis-cap, cta-mqtt]}
    escalation: {after_s: 600, channels: [astreinte]}
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

ChannelName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Language = Literal["fr", "en"]
_HOURS = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


class DispatchConfigError(ValueError):
    """The dispatch file is unreadable or invalid; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookChannel(_Strict):
    """HTTP POST of the message: ``json`` (our schema) or ``cap`` (OASIS CAP 1.2 XML)."""

    type: Literal["webhook"]
    url: str
    format: Literal["json", "cap"] = "json"
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="e.g. Authorization")
    language: Language | None = None

    @model_validator(mode="after")
    def _http(self) -> Self:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError("webhook url must be http:// or https://")
        return self


class EmailChannel(_Strict):
    type: Literal["email"]
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    recipients: tuple[str, ...] = Field(min_length=1)
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=15.0, gt=0, le=120)
    language: Language | None = None


class MqttChannel(_Strict):
    """A QoS 1 publish of the JSON message on the dispatch centre's broker."""

    type: Literal["mqtt"]
    url: str = Field(description="mqtt://[user:password@]host:port")
    topic: str = Field(min_length=1, pattern=r"^[^#+]+$")
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    language: Language | None = None

    @model_validator(mode="after")
    def _mqtt(self) -> Self:
        parts = urlsplit(self.url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("mqtt url must look like mqtt://host:port")
        return self


ChannelConfig = Annotated[WebhookChannel | EmailChannel | MqttChannel, Field(discriminator="type")]


class Rule(_Strict):
    """Which channels get an incident. Empty filters match everything.

    ``hours`` is a local time window ``HH:MM-HH:MM`` (in the config's time zone) and may cross
    midnight (``20:00-08:00``). Every matching rule contributes its channels.
    """

    name: str = Field(min_length=1)
    massifs: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()
    hours: str | None = None
    channels: tuple[ChannelName, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _hours_format(self) -> Self:
        if self.hours is not None:
            self.window()
        return self

    def window(self) -> tuple[time, time] | None:
        if self.hours is None:
            return None
        match = _HOURS.match(self.hours)
        if match is None:
            raise ValueError(f"hours {self.hours!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        try:
            return time(h1, m1), time(h2, m2)
        except ValueError as error:
            raise ValueError(f"hours {self.hours!r}: {error}") from error


class Escalation(_Strict):
    """Incidents nobody acknowledged within ``after_s`` go to these channels (once each)."""

    after_s: float = Field(default=600.0, gt=0)
    channels: tuple[ChannelName, ...] = ()


class Retry(_Strict):
    """Capped exponential backoff: delay = min(first_delay_s * 2**(attempt-1), max_delay_s)."""

    max_attempts: int = Field(default=6, ge=1, le=100)
    first_delay_s: float = Field(default=2.0, gt=0)
    max_delay_s: float = Field(default=300.0, gt=0)


class DispatchConfig(_Strict):
    timezone: str = "Europe/Paris"
    language: Language = "fr"
    sender_name: str = "vigifeu (SDIS 06)"
    channels: dict[ChannelName, ChannelConfig] = Field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    escalation: Escalation = Escalation()
    retry: Retry = Retry()

    @model_validator(mode="after")
    def _known_channels(self) -> Self:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown timezone {self.timezone!r}") from error
        used = [(rule.name, name) for rule in self.rules for name in rule.channels]
        used += [("escalation", name) for name in self.escalation.channels]
        for where, name in used:
            if name not in self.channels:
                raise ValueError(f"{where}: unknown channel {name!r}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_dispatch_config(raw: object, source_name: str) -> DispatchConfig:
    try:
        return DispatchConfig.model_validate(raw or {})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']}"
            for item in error.errors()
        )
        raise DispatchConfigError(f"{source_name}: {problems}") from error


def load_dispatch_config(path: Path) -> DispatchConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise DispatchConfigError(f"{path}: {error}") from error
    return parse_dispatch_config(raw, str(path))
