from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.console.actions import Action, FalsePositive, apply_action
from central.console.operators import (
    OperatorExists,
    authenticate,
    create_operator,
    ensure_admin,
)
from central.db import AuditEntry, Incident, Operator
from central.errors import Conflict, NotFound
from central.incidents.lifecycle import IncidentStatus
from tests.unit.central.dispatch.factories import add_incident

PASSWORD = "un mot de passe assez long"


@pytest.fixture
def operator_id(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return create_operator(session, "marie", "Marie D.", PASSWORD).id


def act(
    sessions: sessionmaker[Session],
    incident_id: int,
    action: Action,
    operator_id: int,
    false_positive: FalsePositive | None = None,
) -> str:
    with sessions.begin() as session:
        operator = session.get_one(Operator, operator_id)
        return apply_action(session, incident_id, action, operator, None, false_positive).message


def trail(sessions: sessionmaker[Session], incident_id: int) -> list[tuple[str, str]]:
    with sessions() as session:
        return [
            (e.action, e.actor)
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.incident_id == incident_id)
                .order_by(AuditEntry.id)
            )
        ]


def test_acknowledge_then_confirm_then_close(
    sessions: sessionmaker[Session], operator_id: int
) -> None:
    with sessions.begin() as session:
        incident_id = add_incident(session).id
    assert act(sessions, incident_id, Action.ACKNOWLEDGE, operator_id) == "Incident acquitté."
    assert act(sessions, incident_id, Action.ACKNOWLEDGE, operator_id) == "Déjà acquitté."
    assert act(sessions, incident_id, Action.CONFIRM, operator_id) == "Incident confirmé."
    assert act(sessions, incident_id, Action.CONFIRM, operator_id).startswith("Déjà fait")
    assert act(sessions, incident_id, Action.CLOSE, operator_id) == "Incident clos."
    with sessions() as session:
        incident = session.get_one(Incident, incident_id)
        assert incident.status == IncidentStatus.CLOSED
        assert incident.acknowledged_by == operator_id
    assert trail(sessions, incident_id) == [
        ("incident.acknowledged", "marie"),
        ("incident.confirmed", "marie"),
        ("incident.closed", "marie"),
    ]


def test_dismiss_needs_a_type_and_records_it(
    sessions: sessionmaker[Session], operator_id: int
) -> None:
    with sessions.begin() as session:
        incident_id = add_incident(session).id
    with pytest.raises(Conflict, match="type de fausse alerte"):
        act(sessions, incident_id, Action.DISMISS, operator_id)
    act(sessions, incident_id, Action.DISMISS, operator_id, FalsePositive.SUN_GLARE)
    with sessions() as session:
        incident = session.get_one(Incident, incident_id)
        assert (incident.status, incident.false_positive_type) == ("dismissed", "sun_glare")
        details = session.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "incident.dismissed")
        ).one()
        assert details == {"false_positive_type": "sun_glare"}
    # Changing one's mind: it was smoke after all; the false-positive type goes away.
    act(sessions, incident_id, Action.CONFIRM, operator_id)
    with sessions() as session:
        assert session.get_one(Incident, incident_id).false_positive_type is None


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (IncidentStatus.CLOSED, Action.CONFIRM),
        (IncidentStatus.DISMISSED, Action.DISPATCH),
        (IncidentStatus.DISPATCHED, Action.DISMISS),
    ],
)
def test_forbidden_transitions_are_refused_in_french(
    sessions: sessionmaker[Session], operator_id: int, status: IncidentStatus, action: Action
) -> None:
    with sessions.begin() as session:
        incident_id = add_incident(session, status=status).id
    with pytest.raises(Conflict, match="action impossible"):
        act(sessions, incident_id, action, operator_id, FalsePositive.OTHER)


def test_unknown_incident(sessions: sessionmaker[Session], operator_id: int) -> None:
    with pytest.raises(NotFound):
        act(sessions, 999, Action.ACKNOWLEDGE, operator_id)


def test_operator_accounts(sessions: sessionmaker[Session], operator_id: int) -> None:
    with sessions.begin() as session:
        with pytest.raises(OperatorExists):
            create_operator(session, "marie", "Autre", PASSWORD)
        assert ensure_admin(session, "admin", PASSWORD) is True
        assert ensure_admin(session, "admin", "un autre mot de passe") is False
        assert authenticate(session, "marie", PASSWORD) is not None
        assert authenticate(session, "marie", "mauvais mot de passe") is None
        assert authenticate(session, "personne", PASSWORD) is None
        session.get_one(Operator, operator_id).is_active = False
        assert authenticate(session, "marie", PASSWORD) is None
        assert session.scalars(select(Operator.role).where(Operator.username == "admin")).one() == (
            "admin"
        )
