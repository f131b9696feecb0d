"""Bring a database to the schema of this code (Alembic ``upgrade head``), and check it."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from central.db.base import Base

logger = logging.getLogger(__name__)

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "migrations" / "alembic.ini"


def alembic_config(connection: Connection | None = None) -> Config:
    """The packaged Alembic configuration, bound to ``connection`` when given."""
    config = Config(str(ALEMBIC_INI))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply every migration the database lacks, in one transaction per run."""
    with engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection), "head")
        after = MigrationContext.configure(connection).get_current_revision()
    if before != after:
        logger.info("database migrated from %s to %s", before or "empty", after)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migration found in central/migrations/versions")
    return head


def schema_differences(engine: Engine) -> list[object]:
    """What the migrated database and the models disagree on (empty when they match)."""
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
