"""The dispatch loop: escalate overdue incidents and send due deliveries, until stopped.

It wakes at once when an action queued something (``wake()``, callable from any thread) and
otherwise every ``tick_s``, which bounds how late an escalation or a retry can be.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError

from central.dispatch.service import DispatchService

logger = logging.getLogger(__name__)


class DispatchWorker:
    def __init__(self, service: DispatchService, tick_s: float = 1.0) -> None:
        self.service = service
        self.tick_s = tick_s
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.errors = 0

    def wake(self) -> None:
        """Run a round now (thread-safe; a no-op before ``start``)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run_once(self) -> None:
        await asyncio.to_thread(self.service.escalate_overdue)
        await self.service.deliver_due()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await self.run_once()
            except SQLAlchemyError:
                # The database may hiccup (locked, restarting): the rows are still there, the
                # next round picks them up.
                self.errors += 1
                logger.exception("dispatch round failed; retrying in %.1f s", self.tick_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick_s)
            self._wake.clear()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="dispatch-worker")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
