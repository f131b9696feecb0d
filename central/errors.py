"""Domain errors of the central service. Only ``central.api`` turns them into HTTP responses."""

from __future__ import annotations


class CentralError(Exception):
    """Base of the errors a service raises on purpose; the message is safe to show a user."""


class NotFound(CentralError):
    """The named thing does not exist (HTTP 404)."""


class Conflict(CentralError):
    """The request contradicts the current state, e.g. a forbidden status change (HTTP 409)."""
