"""``vigifeu central``: run one central instance (MQTT ingest + HTTP API) under uvicorn.

Settings come from the environment (``VIGIFEU_*``, see ``central.settings``); the options below
override them.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn
from pydantic import ValidationError

from central.app import create_app
from central.settings import CentralSettings

logger = logging.getLogger(__name__)

# How long a stop waits for open HTTP responses (live streams) before closing them.
GRACEFUL_SHUTDOWN_S = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (VIGIFEU_DATABASE_URL)")
    parser.add_argument("--mqtt", help="broker URL mqtt://host:port (VIGIFEU_MQTT_URL)")
    parser.add_argument("--host", help="HTTP listen address (VIGIFEU_HOST)")
    parser.add_argument("--port", type=int, help="HTTP port (VIGIFEU_PORT)")
    parser.add_argument("--instance-id", help="MQTT client id, stable per instance")


def settings_from(args: argparse.Namespace) -> CentralSettings:
    overrides = {
        "database_url": args.db,
        "mqtt_url": args.mqtt,
        "host": args.host,
        "port": args.port,
        "instance_id": args.instance_id,
    }
    return CentralSettings(**{key: value for key, value in overrides.items() if value is not None})


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
    except ValidationError as error:
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "settings"
            logger.error("invalid setting %s: %s", where, item["msg"])
        return 2
    app = create_app(settings)
    # uvicorn handles SIGINT/SIGTERM: the lifespan stops ingest cleanly, then uvicorn raises
    # the signal again so that the process ends by it, as services conventionally do. Before
    # the lifespan, uvicorn waits for open responses, and a console's live stream stays open
    # up to 10 min: without a timeout a stop took that long (measured: still running 120 s
    # after SIGTERM), and a service manager would kill it before ingest stopped cleanly.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return 0
