"""Liveness of this instance (database, broker) and its ingest counters."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from central.api.deps import ServicesDep, SessionDep
from central.api.schemas import HealthPublic, MetricsPublic
from central.db import Alert, Incident, QuarantinedMessage

router = APIRouter(tags=["health"])

_TOTALS = {"alerts": Alert, "incidents": Incident, "quarantined": QuarantinedMessage}


@router.get("/health", response_model=HealthPublic)
def health(services: ServicesDep, session: SessionDep, response: Response) -> HealthPublic:
    """200 when the database answers and ingest is connected, else 503 (with the same body)."""
    revision = None
    try:
        revision = session.scalar(text("SELECT version_num FROM alembic_version"))
        database = True
    except SQLAlchemyError:
        database = False
    consumer = services.consumer
    mqtt_connected = consumer is not None and consumer.connected
    ok = database and (mqtt_connected or consumer is None)
    if not ok:
        response.status_code = 503
    return HealthPublic(
        status="ok" if ok else "degraded",
        database=database,
        mqtt_connected=mqtt_connected,
        instance_id=services.settings.instance_id,
        schema_revision=revision,
    )


@router.get("/metrics", response_model=MetricsPublic)
def metrics(services: ServicesDep, session: SessionDep) -> MetricsPublic:
    totals = {
        name: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in _TOTALS.items()
    }
    return MetricsPublic(counters=services.metrics.snapshot(), totals=totals)
