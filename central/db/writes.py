"""Bulk inserts for ingest: one statement for many rows, no ORM unit of work per row.

An ingest batch writes a few hundred alerts, each with two pictures and their links; as ORM
objects they cost ~1 ms per alert in the unit of work alone. These run in the caller's
transaction, on its session's connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from central.db.base import Base


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(model), list(rows))


def insert_returning_ids(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], key: str
) -> dict[Any, int]:
    """Insert ``rows`` and return their generated ``id`` by the value of the unique column
    ``key``. Rows come back in any order: asking for the order of ``rows`` makes SQLite
    insert them one statement each."""
    if not rows:
        return {}
    columns = model.__table__.c
    statement = insert(model).returning(columns[key], columns.id)
    return dict(session.connection().execute(statement, list(rows)).all())


def insert_missing(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping those whose primary key is already stored (``ON CONFLICT DO
    NOTHING``): another instance or an earlier batch may have stored the same content."""
    if not rows:
        return
    connection = session.connection()
    statement: Insert
    match connection.dialect.name:
        case "postgresql":
            statement = postgresql.insert(model).on_conflict_do_nothing()
        case "sqlite":
            statement = sqlite.insert(model).on_conflict_do_nothing()
        case other:
            raise NotImplementedError(f"no insert-or-ignore for the {other} dialect")
    connection.execute(statement, list(rows))
