"""JSON Schema of contract v1, generated from the pydantic models into ``docs/contract/``."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from contracts.messages import AlertMessage, CameraStatusMessage, HeartbeatMessage

SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "alert.v1.schema.json": AlertMessage,
    "heartbeat.v1.schema.json": HeartbeatMessage,
    "status.v1.schema.json": CameraStatusMessage,
}


def render_schemas() -> dict[str, str]:
    """File name -> JSON text of each message schema (stable key order, trailing newline)."""
    return {
        name: json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
        for name, model in SCHEMA_FILES.items()
    }


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
