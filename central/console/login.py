"""Login and logout; unauthenticated requests are sent to the login form."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from central.console.deps import (
    SESSION_COOKIE,
    BadCsrf,
    DbDep,
    LoginRequired,
    StateDep,
    login_url,
    render,
)
from central.console.operators import authenticate

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect would let a phishing link reuse our login page."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    state: StateDep,
    session: DbDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    username = username.strip().lower()
    if not state.throttle.allowed(username):
        logger.warning("login refused for %r: too many failures", username)
        error = "Trop d'échecs : réessayez dans quelques minutes."
        return render(
            request, "login.html", {"next": _safe_next(next), "error": error}, status_code=429
        )
    operator = authenticate(session, username, password)
    if operator is None:
        state.throttle.failed(username)
        logger.info("failed login for %r", username)
        error = "Identifiant ou mot de passe incorrect."
        return render(
            request, "login.html", {"next": _safe_next(next), "error": error}, status_code=401
        )
    session.commit()
    state.throttle.succeeded(username)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        state.signer.issue(operator.id, operator.username),
        max_age=int(state.settings.session_max_age_s),
        httponly=True,
        secure=state.settings.secure_cookies,
        samesite="strict",
        path="/",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
    if wants_page:
        return RedirectResponse(login_url(error.next_path), status_code=303)
    return JSONResponse({"detail": "login required"}, status_code=401)


async def _bad_csrf(_request: Request, _error: Exception) -> Response:
    return JSONResponse({"detail": "missing or invalid CSRF token"}, status_code=403)


def install_login_redirect(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(BadCsrf, _bad_csrf)
