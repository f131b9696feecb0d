"""Alembic environment: runs migrations on the connection central hands over (or on
``VIGIFEU_DATABASE_URL`` when invoked from the alembic command line)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from central.db import Base
from central.db.base import make_engine


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("VIGIFEU_DATABASE_URL")
    if not url:
        raise RuntimeError("set VIGIFEU_DATABASE_URL to the database to migrate")
    engine = make_engine(url)
    with engine.begin() as new_connection:
        _run(new_connection)
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run against a database")
run_migrations_online()
