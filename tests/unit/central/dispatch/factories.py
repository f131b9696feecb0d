"""A helper that writes an incident as ingest would (databases: ``tests/unit/central/conftest``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from central.db import Incident, Location, utc_now
from central.incidents.lifecycle import IncidentStatus


def add_incident(
    session: Session,
    *,
    massif: str | None = "Estérel",
    commune: str | None = "Mandelieu-la-Napoule",
    created_at: datetime | None = None,
    status: IncidentStatus = IncidentStatus.NEW,
) -> Incident:
    created = created_at or utc_now()
    incident = Incident(
        status=status,
        detection_class="smoke",
        first_seen_at=created - timedelta(seconds=30),
        last_seen_at=created,
        max_score=0.8,
        created_at=created,
        status_changed_at=created,
    )
    session.add(incident)
    session.flush()
    session.add(
        Location(
            incident_id=incident.id,
            method="triangulation",
            camera_count=2,
            latitude_deg=43.52,
            longitude_deg=6.93,
            semi_major_m=250.0,
            semi_minor_m=120.0,
            orientation_deg=40.0,
            dfci_code="KD68H4",
            commune=commune,
            massif=massif,
            estimate={"bearings": [{"camera_key": "cabanelle/nord", "azimuth_deg": 201.0}]},
        )
    )
    session.flush()
    return incident
