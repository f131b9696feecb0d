"""Configuration of one central instance, read from the environment (prefix ``VIGIFEU_``).

Nothing is read at import: ``CentralSettings()`` reads the environment when it is built (in
``central.main``), and tests pass values directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"
MIN_SECRET_CHARS = 16


# Share group and instance id: they become parts of MQTT client ids and topics.
MQTT_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class CentralSettings(BaseSettings):
    """Settings of one central instance. Several instances share one database and broker."""

    model_config = SettingsConfigDict(env_prefix="VIGIFEU_", extra="forbid", frozen=True)

    environment: Literal["dev", "production"] = Field(
        default="production", description="'dev' allows the placeholder secret key"
    )
    database_url: str = Field(
        default="sqlite:///var/vigifeu.sqlite3",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    mqtt_url: str = Field(default="mqtt://127.0.0.1:1883", description="mqtt://[user:pw@]host:port")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Every instance joins the same shared-subscription group, so the broker hands each message
    # to exactly one of them. The instance id is the MQTT client id of a persistent session: it
    # must be distinct per instance and stable across restarts, or the broker keeps queueing
    # this instance's share of the messages for a session nobody resumes.
    share_group: str = Field(default="vigifeu-central", pattern=MQTT_NAME_PATTERN)
    instance_id: str = Field(default="central-1", pattern=MQTT_NAME_PATTERN)
    secret_key: SecretStr = Field(
        default=SecretStr(PLACEHOLDER_SECRET), description="Signs operator sessions"
    )
    # How long the broker keeps this instance's session (and queues its messages) while it is
    # down: 3 days covers a long weekend without an administrator.
    mqtt_session_expiry_s: int = Field(default=3 * 24 * 3600, ge=60)
    mqtt_keepalive_s: int = Field(default=30, ge=5, le=600)
    # Unacknowledged messages the broker may send us (MQTT v5 Receive Maximum). It bounds the
    # memory held while the database is slow and the size of one storage transaction.
    mqtt_receive_maximum: int = Field(default=200, ge=1, le=65535)
    ingest_batch_max: int = Field(default=200, ge=1, description="Messages per transaction")
    quarantine_payload_max_bytes: int = Field(
        default=65_536, ge=0, description="Bad payloads are kept up to this size"
    )
    geodata_dir: Path | None = Field(default=None, description="None: the committed geodata")
    # Clustering: alerts within this window of an open incident may join it when their
    # bearings agree. 30 min spans a smoke that drifts in and out of cloud.
    cluster_window_s: float = Field(default=1800.0, gt=0)
    # Farthest distance at which a lookout camera reports smoke: 40 km is the practical limit
    # of the 06 sites (the cabanelle-valbonne baseline is 36 km).
    cluster_max_range_m: float = Field(default=40_000.0, gt=0)
    # Angular slack added to each side of a bearing cone (computed with the full camera model):
    # ~3 sigma of a calibrated heading (0.3 deg). Raise it for cameras not calibrated on
    # landmarks, or two cameras' sightings of one fire become two incidents.
    cluster_margin_deg: float = Field(default=1.0, ge=0, le=30)
    # How long after a camera last saw an incident's smoke its bearing alone may still bring a
    # new event into that incident (a located point may for all of cluster_window_s).
    cluster_sighting_window_s: float = Field(default=600.0, gt=0)

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("mqtt_url must look like mqtt://host:port or mqtts://host:port")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secret(self) -> Self:
        secret = self.secret_key.get_secret_value()
        if self.environment != "dev" and (
            secret == PLACEHOLDER_SECRET or len(secret) < MIN_SECRET_CHARS
        ):
            raise ValueError(
                f"set VIGIFEU_SECRET_KEY to a random string of at least {MIN_SECRET_CHARS} "
                "characters (the placeholder is only allowed with VIGIFEU_ENVIRONMENT=dev)"
            )
        return self
