"""What console routes need: the shared state, the logged-in operator, CSRF, page rendering."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from central.db import Operator

if TYPE_CHECKING:
    from central.console.plugin import ConsolePlugin, ConsoleState

SESSION_COOKIE = "vigifeu_session"
FLASH_COOKIE = "vigifeu_flash"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, other requests get 401."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class BadCsrf(Exception):
    """A state-changing request without the page's CSRF token (403)."""


def get_plugin(request: Request) -> ConsolePlugin:
    plugin: ConsolePlugin = request.app.state.console
    return plugin


def get_state(request: Request) -> ConsoleState:
    state = get_plugin(request).state
    if state is None:
        raise RuntimeError("the console is used outside the application lifespan")
    return state


StateDep = Annotated["ConsoleState", Depends(get_state)]


def get_db(state: StateDep) -> Iterator[Session]:
    """One session per request; actions commit it themselves."""
    with state.sessions() as session:
        yield session


DbDep = Annotated[Session, Depends(get_db)]


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def current_operator(request: Request, state: StateDep, session: DbDep) -> Operator:
    token = session_token(request)
    claims = state.signer.verify(token) if token else None
    operator = session.get(Operator, claims.operator_id) if claims else None
    if operator is None or not operator.is_active:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return operator


OperatorDep = Annotated[Operator, Depends(current_operator)]


async def check_csrf(request: Request, state: StateDep) -> None:
    token = session_token(request) or ""
    candidate = request.headers.get(CSRF_HEADER)
    if candidate is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        candidate = value if isinstance(value, str) else None
    if not candidate or not state.signer.csrf_valid(token, candidate):
        raise BadCsrf


CsrfDep = Depends(check_csrf)


def login_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='/')}"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    operator: Operator | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page with what every template needs (operator, CSRF token, flash message)."""
    plugin = get_plugin(request)
    state = get_state(request)
    token = session_token(request) or ""
    # Fragments (templates named "_*") leave the message to the full page it belongs to: a live
    # update racing the redirect must not swallow it.
    raw_flash = None if template.startswith("_") else request.cookies.get(FLASH_COOKIE)
    flash = unquote(raw_flash) if raw_flash else None
    response = plugin.templates.TemplateResponse(
        request,
        template,
        {
            **context,
            "operator": operator,
            "csrf_token": state.signer.csrf_token(token) if token else "",
            "flash": flash,
            "path": request.url.path,
        },
        status_code=status_code,
    )
    if raw_flash is not None:
        response.delete_cookie(FLASH_COOKIE, path=request.url.path)
    return response


def redirect_with_flash(location: str, message: str) -> RedirectResponse:
    """303 to ``location``, which shows ``message`` once (a cookie scoped to that path, so that
    a message nobody displayed cannot surface on another page later)."""
    response = RedirectResponse(location, status_code=303)
    response.set_cookie(
        FLASH_COOKIE, quote(message), max_age=60, path=location, httponly=True, samesite="strict"
    )
    return response
