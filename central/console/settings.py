"""Console and dispatch settings, read from the environment (prefix ``VIGIFEU_``) when built.

They sit beside ``CentralSettings`` (the same prefix, other names) so that the console can be
configured without touching the core service's settings.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIFEU_", extra="ignore", frozen=True)

    public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Base URL of this console as firefighters reach it (links in dispatches)",
    )
    dispatch_config: Path | None = Field(
        default=None, description="Dispatch rules and channels (YAML); None: dispatch disabled"
    )
    # First administrator, created at start-up when no operator of that name exists. Leave the
    # password unset in production once the account exists.
    admin_username: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")
    admin_password: SecretStr | None = None
    # A shift is 12 h; a session outlives it a little so nobody is logged out mid-incident.
    session_max_age_s: float = Field(default=14 * 3600, gt=60)
    secure_cookies: bool = Field(default=False, description="Set behind HTTPS")
    # Proxies drop idle HTTP connections after ~60 s; a comment every 15 s keeps SSE alive.
    sse_heartbeat_s: float = Field(default=15.0, gt=0)
    dispatch_tick_s: float = Field(default=1.0, gt=0, le=60)
