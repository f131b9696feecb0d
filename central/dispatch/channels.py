"""Delivery channels: webhook (JSON or CAP 1.2), e-mail over SMTP, MQTT; one Protocol, one fake.

A sender either returns (delivered: the receiver accepted it) or raises ``DeliveryError`` with a
reason safe to log and store (no credentials). Delivery is at-least-once: a retry after a lost
response can repeat a message, so each carries a stable idempotency key.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import urlsplit

import aiosmtplib
import httpx
import paho.mqtt.client as mqtt

from central.dispatch.cap import render_cap
from central.dispatch.config import (
    ChannelConfig,
    DispatchConfig,
    EmailChannel,
    MqttChannel,
    WebhookChannel,
)
from central.dispatch.message import IncidentFacts, Purpose, RenderedMessage, render, to_json

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The channel did not accept the message; ``str()`` is safe to store and show."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for one channel."""

    facts: IncidentFacts
    purpose: Purpose
    channel: str
    sent_at: datetime

    @property
    def idempotency_key(self) -> str:
        return f"vigifeu-incident-{self.facts.incident_id}-{self.purpose}-{self.channel}"


class Sender(Protocol):
    async def send(self, outgoing: Outgoing) -> None: ...


def _rendered(config: DispatchConfig, language: str | None, outgoing: Outgoing) -> RenderedMessage:
    return render(outgoing.facts, outgoing.purpose, language or config.language, config.zone)


@dataclass(slots=True)
class WebhookSender:
    dispatch: DispatchConfig
    channel: WebhookChannel
    client: httpx.AsyncClient

    async def send(self, outgoing: Outgoing) -> None:
        rendered = _rendered(self.dispatch, self.channel.language, outgoing)
        headers = {name: value.get_secret_value() for name, value in self.channel.headers.items()}
        headers["Idempotency-Key"] = outgoing.idempotency_key
        if self.channel.format == "cap":
            content = render_cap(
                outgoing.facts,
                outgoing.purpose,
                rendered,
                sender="vigifeu@sdis06",
                sender_name=self.dispatch.sender_name,
                sent_at=outgoing.sent_at.astimezone(self.dispatch.zone),
            )
            headers["Content-Type"] = "application/cap+xml; charset=utf-8"
        else:
            document = to_json(outgoing.facts, outgoing.purpose, rendered)
            content = json.dumps(document, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            response = await self.client.post(
                self.channel.url, content=content, headers=headers, timeout=self.channel.timeout_s
            )
        except httpx.HTTPError as error:
            raise DeliveryError(f"webhook: {type(error).__name__}: {error}") from error
        if not response.is_success:
            raise DeliveryError(f"webhook: HTTP {response.status_code}")


@dataclass(slots=True)
class EmailSender:
    dispatch: DispatchConfig
    channel: EmailChannel

    async def send(self, outgoing: Outgoing) -> None:
        rendered = _rendered(self.dispatch, self.channel.language, outgoing)
        message = EmailMessage()
        message["From"] = self.channel.sender
        message["To"] = ", ".join(self.channel.recipients)
        message["Subject"] = rendered.subject
        message["Message-ID"] = make_msgid(idstring=outgoing.idempotency_key)
        message["X-Vigifeu-Incident"] = str(outgoing.facts.incident_id)
        message.set_content(rendered.body)
        password = self.channel.password.get_secret_value() if self.channel.password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=self.channel.host,
                port=self.channel.port,
                start_tls=self.channel.starttls,
                username=self.channel.username,
                password=password,
                timeout=self.channel.timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"smtp: {type(error).__name__}: {error}") from error


@dataclass(slots=True)
class MqttSender:
    dispatch: DispatchConfig
    channel: MqttChannel

    def _publish(self, payload: bytes) -> None:
        parts = urlsplit(self.channel.url)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        if parts.username:
            client.username_pw_set(parts.username, parts.password)
        if parts.scheme == "mqtts":
            client.tls_set()
        try:
            client.connect(parts.hostname or "", parts.port or 1883, keepalive=30)
            client.loop_start()
            info = client.publish(self.channel.topic, payload, qos=1)
            info.wait_for_publish(timeout=self.channel.timeout_s)
            if not info.is_published():
                raise DeliveryError(f"mqtt: not acknowledged within {self.channel.timeout_s} s")
        except (OSError, ValueError, RuntimeError) as error:
            raise DeliveryError(f"mqtt: {type(error).__name__}: {error}") from error
        finally:
            client.disconnect()
            client.loop_stop()

    async def send(self, outgoing: Outgoing) -> None:
        rendered = _rendered(self.dispatch, self.channel.language, outgoing)
        document = to_json(outgoing.facts, outgoing.purpose, rendered)
        document["idempotency_key"] = outgoing.idempotency_key
        payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
        await asyncio.to_thread(self._publish, payload)


@dataclass(slots=True)
class RecordingSender:
    """Fake for tests: records what it was given; fails the first ``failures`` sends."""

    failures: int = 0
    sent: list[Outgoing] = field(default_factory=list)
    tries: int = 0

    async def send(self, outgoing: Outgoing) -> None:
        self.tries += 1
        if self.tries <= self.failures:
            raise DeliveryError(f"scripted failure {self.tries}")
        self.sent.append(outgoing)


def build_sender(
    dispatch: DispatchConfig, channel: ChannelConfig, client: httpx.AsyncClient
) -> Sender:
    if isinstance(channel, WebhookChannel):
        return WebhookSender(dispatch, channel, client)
    if isinstance(channel, EmailChannel):
        return EmailSender(dispatch, channel)
    return MqttSender(dispatch, channel)


def build_senders(dispatch: DispatchConfig, client: httpx.AsyncClient) -> dict[str, Sender]:
    return {
        name: build_sender(dispatch, channel, client) for name, channel in dispatch.channels.items()
    }
