"""In-process publish/subscribe of what changed, for live pages (SSE) and the dispatch worker.

Publishers call ``EventBus.publish(Change(...))`` from any thread (the MQTT ingest runs in
paho's network thread, the API in the event loop); each subscriber gets the changes on its own
bounded asyncio queue. A subscriber that falls behind loses its oldest changes, counted in
``dropped``: a change only says *what to re-read*, so a page that missed one re-reads the list
when it reconnects.

Changes made here are also handed to the bus's forwarders (``central.relay`` sends them to the
other central instances, whose changes it publishes here in turn, with their ``origin``), so a
console shows what every instance ingests and what operators do through any of them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger(__name__)

ChangeKind = Literal["incident", "camera", "dispatch"]

# A console page needs a few changes per minute; 256 covers a burst of alerts from every
# camera of the department at once without holding memory for a stalled browser.
SUBSCRIBER_QUEUE_SIZE = 256


@dataclass(frozen=True, slots=True)
class Change:
    """``kind`` and the id of the row that changed (incident id, camera key ``site/camera``)."""

    kind: ChangeKind
    key: str
    action: str = "updated"  # created | updated | acknowledged | dispatched | ...
    origin: str | None = None  # the central instance that made it; None: this one


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)
        self.dropped = 0

    def offer(self, change: Change | None) -> None:
        """Runs in the subscriber's loop: enqueue, dropping the oldest change when full."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(change)


Forwarder = Callable[[Change], None]


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[_Subscriber] = set()
        self._forwarders: list[Forwarder] = []
        self._closed = False
        self.published = 0

    def add_forwarder(self, forwarder: Forwarder) -> None:
        """Also call ``forwarder`` (from the publishing thread, so it must not block) with every
        change made here, that is without an ``origin``."""
        with self._lock:
            self._forwarders.append(forwarder)

    def publish(self, change: Change) -> None:
        """Hand ``change`` to every subscriber and, if made here, to the forwarders;
        thread-safe and never blocks."""
        with self._lock:
            subscribers = list(self._subscribers)
            forwarders = list(self._forwarders) if change.origin is None else []
            self.published += 1
        for forwarder in forwarders:
            try:
                forwarder(change)
            except Exception:
                logger.exception("a change forwarder failed; the change stays local")
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, change)
            except RuntimeError:  # its loop is closed: the subscriber is gone
                self._remove(subscriber)

    def _remove(self, subscriber: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)
        if subscriber.dropped:
            logger.warning("event subscriber lagged: %d changes dropped", subscriber.dropped)

    async def subscribe(self, heartbeat_s: float) -> AsyncIterator[Change | None]:
        """Changes as they come; ``None`` every ``heartbeat_s`` of silence (keep-alive).

        Ends when the bus is closed (application shutdown).
        """
        subscriber = _Subscriber(asyncio.get_running_loop())
        with self._lock:
            if self._closed:
                return
            self._subscribers.add(subscriber)
        try:
            while True:
                try:
                    change = await asyncio.wait_for(subscriber.queue.get(), heartbeat_s)
                except TimeoutError:
                    yield None
                    continue
                if change is None:
                    return
                yield change
        finally:
            self._remove(subscriber)

    def end_subscriptions(self) -> None:
        """End every current subscription, the bus staying open: a live page reconnects and
        re-reads everything it shows (after changes this bus may have missed)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, None)
            except RuntimeError:
                self._remove(subscriber)

    def close(self) -> None:
        """End every subscription for good (streaming responses must end before the server can
        stop)."""
        with self._lock:
            self._closed = True
        self.end_subscriptions()

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)
