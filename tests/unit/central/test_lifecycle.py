from __future__ import annotations

import pytest

from central.errors import Conflict
from central.incidents.lifecycle import IncidentStatus as S
from central.incidents.lifecycle import InvalidTransition, transition


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.NEW, S.CONFIRMED),
        (S.NEW, S.DISMISSED),
        (S.NEW, S.DISPATCHED),  # sending crews confirms it
        (S.NEW, S.CLOSED),
        (S.CONFIRMED, S.DISPATCHED),
        (S.CONFIRMED, S.CLOSED),
        (S.DISMISSED, S.CONFIRMED),  # the operator changes their mind
        (S.DISPATCHED, S.CLOSED),
    ],
)
def test_allowed_transitions(current: S, wanted: S) -> None:
    assert transition(current, wanted) is wanted


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.NEW, S.NEW),
        (S.CONFIRMED, S.NEW),
        (S.CONFIRMED, S.DISMISSED),  # confirmed smoke is closed, not dismissed
        (S.DISMISSED, S.DISPATCHED),  # confirm first
        (S.DISMISSED, S.CLOSED),
        (S.DISPATCHED, S.CONFIRMED),
        (S.DISPATCHED, S.DISMISSED),
        (S.CLOSED, S.NEW),  # closed is final
        (S.CLOSED, S.CONFIRMED),
    ],
)
def test_forbidden_transitions_name_both_statuses(current: S, wanted: S) -> None:
    with pytest.raises(InvalidTransition) as raised:
        transition(current, wanted)
    assert isinstance(raised.value, Conflict)
    assert f"from {current} to {wanted}" in str(raised.value)
