"""Domain errors -> HTTP, in one place (services never raise HTTPException)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from central.errors import CentralError, Conflict, NotFound

_STATUS = {NotFound: 404, Conflict: 409}


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    status = next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 400)
    return JSONResponse({"detail": str(error)}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CentralError, _domain_error)
