"""Server-sent events: the browser learns at once that an incident or a camera changed.

Each event names what changed (``{"kind": "incident", "key": "12", "action": "created"}``); the
page then re-reads just that row or panel. No polling: between changes the stream only carries a
comment every ``sse_heartbeat_s`` (keeps proxies from closing it). A stream ends after
``SSE_MAX_AGE_S``; EventSource reconnects by itself and the page re-reads its list on reconnect,
so nothing missed in between stays missed.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from central.console.deps import LoginRequired, StateDep, session_token
from central.console.sound import alert_wav

router = APIRouter(include_in_schema=False)

# Recycle streams every 10 min: bounds how long a revoked session keeps receiving. (A stop of
# ``vigifeu central`` waits ``GRACEFUL_SHUTDOWN_S`` for open streams, then cancels them.)
SSE_MAX_AGE_S = 600.0
# Browser reconnection delay after a dropped stream.
RETRY_MS = 2000


def _event(kind: str, data: dict[str, str]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


@router.get("/events")
async def events(request: Request, state: StateDep) -> StreamingResponse:
    # The signed session is checked without a database session: a dependency holding one open
    # would hold it for the whole life of the stream.
    token = session_token(request)
    if token is None or state.signer.verify(token) is None:
        raise LoginRequired(request.url.path)

    async def stream() -> AsyncIterator[str]:
        deadline = time.monotonic() + SSE_MAX_AGE_S
        yield f"retry: {RETRY_MS}\n\n"
        yield _event("hello", {"kind": "hello", "key": "", "action": "connected"})
        async for change in state.bus.subscribe(state.settings.sse_heartbeat_s):
            if await request.is_disconnected() or time.monotonic() > deadline:
                return
            if change is None:
                yield ": keep-alive\n\n"
                continue
            yield _event(
                change.kind, {"kind": change.kind, "key": change.key, "action": change.action}
            )

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/alerte.wav")
def alert_sound() -> Response:
    """The alert chime (generated, cached by the browser for a day)."""
    return Response(alert_wav(), media_type="audio/wav", headers={"Cache-Control": "max-age=86400"})
