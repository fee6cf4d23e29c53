"""The event inbox: webhook events are stored before we acknowledge them, then answered by a worker.

Dedupe is the unique (source, event_key) constraint, so it holds across workers and machines. A claimed
event carries a lease; if its worker dies (kill -9), the lease runs out and another worker takes it.

Replies are at most once. A handler records how far its answer got in `delivery`, durably and only while it
still holds the event (`mark_delivery`): "replying" before a call whose effect cannot be repeated safely (a
LINE reply, a Slack post), "reply_failed" when the platform answered that it failed, and the outcome with
`complete` ("sent", or "unknown" when a resumed event could not learn whether the earlier call went
out). A worker that takes over an event sees where the dead one stopped; see adapters/line/handler.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.errors import StorageError
from bot.store.db import Database
from bot.store.models import InboxEvent, utcnow
from bot.store.sealing import PayloadSealer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboxItem:
    """A claimed event, handed to the handler of its source."""

    id: int
    source: str
    event_key: str
    payload: dict[str, Any]
    attempts: int
    worker: str = ""  # who holds it: transitions are made only while this worker still does
    delivery: str | None = None  # how far an earlier attempt got (see the module's docstring)


#: `delivery` values.
REPLYING, REPLY_FAILED, SENT, UNKNOWN = "replying", "reply_failed", "sent", "unknown"


class EventInbox:
    """Accept, claim, complete and fail events; every transition is one short transaction."""

    def __init__(self, database: Database, sealer: PayloadSealer, lease_seconds: float = 60.0,
                 max_attempts: int = 5) -> None:
        self.database = database
        self.sealer = sealer
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts

    def accept(self, source: str, event_key: str, payload: dict[str, Any]) -> bool:
        """Store an event durably. False when (source, event_key) was seen before (a redelivery)."""
        return self.accept_many([(source, event_key, payload)])[0]

    def accept_many(self, events: Sequence[tuple[str, str, dict[str, Any]]]) -> list[bool]:
        """`accept` for several events in one transaction: one commit (one fsync) for all of them.

        A key seen before, or twice in `events`, is False (its first occurrence in `events` is the one
        stored). If the transaction fails, none is stored. One multi-row INSERT … ON CONFLICT DO NOTHING
        RETURNING: the keys it returns are the ones stored now.
        """
        now = utcnow()
        first: dict[tuple[str, str], int] = {}
        rows = []
        for n, (source, event_key, payload) in enumerate(events):
            key = (source, event_key[:200])
            if key in first:
                continue
            first[key] = n
            rows.append({"source": source, "event_key": key[1], "payload": self.sealer.seal(payload),
                         "status": "pending", "attempts": 0, "received_at": now, "not_before": now})
        stored = [False] * len(events)
        if not rows:
            return stored
        dialect = sqlite if self.database.is_sqlite else postgresql
        table = InboxEvent.__table__
        statement = (dialect.insert(table).on_conflict_do_nothing()
                     .returning(table.c.source, table.c.event_key))
        with self.database.session() as session:
            inserted = session.connection().execute(statement, rows).all()
        for source, event_key in inserted:
            stored[first[(source, event_key)]] = True
        return stored

    def claim(self, worker: str, limit: int = 1) -> list[InboxItem]:
        """Take up to `limit` due events (pending, or processing with an expired lease) for `worker`."""
        now = utcnow()
        due = (
            select(InboxEvent.id)
            .where(((InboxEvent.status == "pending") & (InboxEvent.not_before <= now))
                   | ((InboxEvent.status == "processing") & (InboxEvent.lease_until < now)))
            .order_by(InboxEvent.id)
            .limit(limit)
        )
        if not self.database.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        claim = (
            update(InboxEvent)
            .where(InboxEvent.id.in_(due.scalar_subquery()))
            .values(status="processing", lease_until=now + self.lease, claimed_by=worker[:80],
                    attempts=InboxEvent.attempts + 1)
            .returning(InboxEvent.id, InboxEvent.source, InboxEvent.event_key, InboxEvent.payload,
                       InboxEvent.attempts, InboxEvent.delivery)
            .execution_options(synchronize_session=False)
        )
        with self.database.session() as session:
            rows = session.execute(claim).all()
        items = []
        for row in sorted(rows, key=lambda r: int(r.id)):
            try:
                payload = self.sealer.open(row.payload)
            except StorageError:
                log.error("inbox event %s/%s cannot be opened; marked failed", row.source, row.event_key)
                self._finish_id(row.id, worker, "failed", "payload cannot be opened")
                continue
            items.append(InboxItem(row.id, row.source, row.event_key, payload, row.attempts, worker[:80],
                                   row.delivery))
        return items

    def renew(self, item: InboxItem, worker: str) -> bool:
        """Extend the lease of an event `worker` still holds (it is still working on it). False if it lost it.

        A lease that ran out while its worker was merely slow would let a second worker answer the same
        event at the same time; renewing while working leaves expiry to workers that died.
        """
        with self.database.session() as session:
            result = session.execute(update(InboxEvent)
                                     .where(InboxEvent.id == item.id, InboxEvent.claimed_by == worker[:80],
                                            InboxEvent.status == "processing")
                                     .values(lease_until=utcnow() + self.lease))
            return bool(getattr(result, "rowcount", 0))

    def mark_delivery(self, item: InboxItem, delivery: str) -> bool:
        """Record (committed before this returns) how far the answer got, only while `item.worker` still holds
        the event. False: another worker took it over, so this one must not send anything."""
        with self.database.session() as session:
            result = session.execute(update(InboxEvent)
                                     .where(InboxEvent.id == item.id, InboxEvent.claimed_by == item.worker[:80],
                                            InboxEvent.status == "processing")
                                     .values(delivery=delivery))
            return bool(getattr(result, "rowcount", 0))

    def complete(self, item: InboxItem, worker: str, delivery: str | None = None) -> None:
        """Mark an event answered (only if `worker` still holds it), with the delivery outcome if known."""
        with self.database.session() as session:
            values: dict[str, Any] = {"status": "done", "finished_at": utcnow(), "lease_until": None,
                                      "last_error": None}
            if delivery is not None:
                values["delivery"] = delivery
            session.execute(update(InboxEvent)
                            .where(InboxEvent.id == item.id, InboxEvent.claimed_by == worker[:80])
                            .values(**values))

    def fail(self, item: InboxItem, worker: str, error: str, retryable: bool) -> bool:
        """Record a failure; retried later with exponential backoff unless out of attempts.

        Returns True when the event will be retried, False when it is now marked failed for good.
        """
        if retryable and item.attempts < self.max_attempts:
            delay = timedelta(seconds=min(2 ** item.attempts, 300))
            with self.database.session() as session:
                session.execute(update(InboxEvent)
                                .where(InboxEvent.id == item.id, InboxEvent.claimed_by == worker[:80])
                                .values(status="pending", not_before=utcnow() + delay, lease_until=None,
                                        last_error=error[:200]))
            return True
        self._finish(item, worker, status="failed", error=error)
        log.error("event %s/%s failed for good after %d attempts: %s", item.source, item.event_key,
                  item.attempts, error)
        return False

    def _finish(self, item: InboxItem, worker: str, status: str, error: str | None) -> None:
        self._finish_id(item.id, worker, status, error)

    def _finish_id(self, event_id: int, worker: str, status: str, error: str | None) -> None:
        with self.database.session() as session:
            session.execute(update(InboxEvent)
                            .where(InboxEvent.id == event_id, InboxEvent.claimed_by == worker[:80])
                            .values(status=status, finished_at=utcnow(), lease_until=None,
                                    last_error=None if error is None else error[:200]))

    def counts(self) -> dict[str, int]:
        """Events per status (for health checks, tests and benchmarks)."""
        from sqlalchemy import func

        with self.database.session() as session:
            rows = session.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all()
        return {status: int(count) for status, count in rows}
