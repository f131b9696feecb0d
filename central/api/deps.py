"""What routes need, as ``Annotated`` aliases: ``def route(session: SessionDep, ...)``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from central.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """One session per request; routes that change data commit it themselves."""
    with services.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
