"""Store a batch of received messages in one transaction, so that they can be acknowledged.

The contract with the consumer: ``store(batch)`` returns True only once every message of the
batch is committed (stored, counted as a duplicate or quarantined); only then may the broker be
told. While the database is unreachable it retries with capped backoff and the messages stay
unacknowledged (the broker keeps them). A message that breaks our own processing is isolated
by replaying the batch one message per transaction, and quarantined with the error.

Several instances share the subscription message by message, so the alerts of one new event
reach several of them at once and each tries to create the event: the one that commits second
gets a unique-key violation. That batch is simply stored again, once or twice: it now reads the
event as stored and continues it (one extra batch, where the replay one message at a time cost
a transaction per message).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import exc
from sqlalchemy.orm import Session, sessionmaker

from central.db.registry import forget_cached
from central.incidents.locating import Locator
from central.incidents.memo import forget_memo
from central.ingest.handler import (
    Handled,
    HandledKind,
    HandlerConfig,
    Received,
    handle_batch,
    is_duplicate,
    quarantine,
)
from central.ingest.metrics import IngestMetrics

logger = logging.getLogger(__name__)

Listener = Callable[[Handled], None]

# Errors of the database itself (down, restarting, locked, connection lost): retry the batch.
TRANSIENT_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError)
MAX_REASON_CHARS = 1000
# Batches stored again after a unique-key violation before isolating a message: a row another
# instance committed meanwhile is read as stored the next time.
CONFLICT_RETRIES = 2

_COUNTERS = {
    HandledKind.ALERT: "ingested",
    HandledKind.HEARTBEAT: "heartbeats",
    HandledKind.STATUS: "statuses",
    HandledKind.QUARANTINED: "quarantined",
}


class BatchStore:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        locator: Locator,
        config: HandlerConfig,
        metrics: IngestMetrics,
        stop: threading.Event,
        listeners: Sequence[Listener] = (),
        retry_initial_s: float = 0.5,
        retry_max_s: float = 30.0,
    ) -> None:
        self._session_factory = session_factory
        self._locator = locator
        self._config = config
        self._metrics = metrics
        self._stop = stop
        self._listeners = tuple(listeners)
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s

    def store(self, batch: Sequence[Received]) -> bool:
        """Commit ``batch``; False only when asked to stop while the database was failing."""
        delay_s = self._retry_initial_s
        while not self._stop.is_set():
            try:
                handled = self._stored(batch)
            except TRANSIENT_ERRORS as error:
                self._metrics.add("database_retries")
                logger.warning(
                    "database unavailable (%s); retrying %d messages in %.1f s",
                    type(error).__name__,
                    len(batch),
                    delay_s,
                )
                self._stop.wait(delay_s)
                delay_s = min(2 * delay_s, self._retry_max_s)
                continue
            self._account(handled)
            return True
        return False

    def _stored(self, batch: Sequence[Received]) -> list[Handled]:
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                return self._in_one_transaction(batch)
            except TRANSIENT_ERRORS:
                raise
            except exc.IntegrityError as error:
                failure: Exception = error
                if attempt == CONFLICT_RETRIES:
                    break
                self._metrics.add("conflict_retries")
                logger.info(
                    "batch of %d met a row stored meanwhile (%s); storing it again",
                    len(batch),
                    str(error.orig)[:200],
                )
            except Exception as error:
                failure = error
                break
        logger.warning(
            "batch of %d failed (%s: %s); storing one message at a time",
            len(batch),
            type(failure).__name__,
            failure,
        )
        return self._one_by_one(batch)

    def _in_one_transaction(self, batch: Sequence[Received]) -> list[Handled]:
        with self._session_factory() as session:
            try:
                handled = handle_batch(session, batch, self._locator, self._config)
                session.commit()
            except BaseException:
                session.rollback()
                forget_cached(session)
                forget_memo(session)
                raise
        return handled

    def _one_by_one(self, batch: Sequence[Received]) -> list[Handled]:
        handled = []
        for message in batch:
            try:
                handled.extend(self._in_one_transaction([message]))
            except TRANSIENT_ERRORS:
                raise
            except Exception as error:
                logger.exception("could not store a message on %s", message.topic[:100])
                self._metrics.add("processing_errors")
                reason = f"processing failed: {type(error).__name__}: {error}"[:MAX_REASON_CHARS]
                with self._session_factory() as session:
                    handled.append(quarantine(session, message, reason, self._config))
                    session.commit()
        return handled

    def _account(self, handled: Sequence[Handled]) -> None:
        self._metrics.add("batches")
        self._metrics.add("received", len(handled))
        for item in handled:
            self._metrics.add("duplicates" if is_duplicate(item) else _COUNTERS[item.kind])
            for listener in self._listeners:
                try:
                    listener(item)
                except Exception:
                    logger.exception("an ingest listener failed; ingest goes on")
