"""A degraded location reaches the dispatch facts and the console in words."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from central.console.views import incident_row
from central.dispatch.facts import incident_facts
from central.dispatch.links import Links
from tests.unit.central.dispatch.factories import add_incident


def test_a_degenerate_location_is_a_caveat_for_crews_and_operators(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        incident = add_incident(session)
        assert incident.location is not None
        assert incident_row(session, incident, {}).caveat is None
        incident.location.degenerate = "cut_angle_below_30deg"
        facts = incident_facts(session, incident, Links("http://console.local"))
        assert facts.caveat == "cut_angle_below_30deg"
        row = incident_row(session, incident, {})
        assert row.caveat == "relèvements presque parallèles (angle de coupe < 30°)"
