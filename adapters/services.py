"""What the app's lifespan owns (database, answer log, inbox, the core) and hands out through `Depends`."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import APIRouter, HTTPException, Request

from bot.errors import PlanBotError
from bot.settings import Settings
from bot.store.answer_log import AnswerLog
from bot.store.approved import ApprovedAnswers
from bot.store.db import Database
from bot.store.inbox import EventInbox, InboxItem
from bot.store.ratelimit import RateLimiter
from bot.store.sealing import PayloadSealer

if TYPE_CHECKING:
    from bot.assistant import Assistant
    from bot.service import PlanBot

log = logging.getLogger(__name__)
#: Answers one stored webhook event (runs in a worker thread); returns the delivery outcome to record with the
#: event ("sent", "unknown", see bot/store/inbox.py) or None. Raises DeliveryError on platform failure.
EventHandler = Callable[[InboxItem], str | None]


@dataclass
class Services:
    """Every long-lived client of one app process. Built by the lifespan, closed by it."""

    settings: Settings
    database: Database
    answer_log: AnswerLog
    inbox: EventInbox
    approved: ApprovedAnswers
    limiter: RateLimiter
    planbot: PlanBot | None = None
    assistant: Assistant | None = None
    handlers: dict[str, EventHandler] = field(default_factory=dict)
    shutdown_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    events_waiting: asyncio.Event = field(default_factory=asyncio.Event)
    startup_error: str | None = None
    core_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    writer: GroupCommit | None = None

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open the database (migrating it) and the stores on top of it."""
        from bot.store.db import open_database

        database = open_database(settings)
        inbox = EventInbox(database, PayloadSealer(settings.user_hash_salt), settings.inbox_lease_seconds,
                           settings.inbox_max_attempts)
        return cls(
            settings=settings,
            database=database,
            answer_log=AnswerLog(database),
            inbox=inbox,
            writer=GroupCommit(inbox),
            approved=ApprovedAnswers(database),
            limiter=RateLimiter(database, settings.rate_limit_per_minute),
        )

    async def load_core(self, planbot: PlanBot | None = None, fatal: bool = True) -> bool:
        """Load the core (embedding model, index) once, even when asked concurrently, and attach it.

        False when it failed to load. `fatal`: the failure is kept as `startup_error` (healthz turns 503);
        a web-only process is not fatal, so its webhooks stay up and the next request that needs the core
        tries again.
        """
        async with self.core_lock:
            if self.planbot is not None:
                return True
            if planbot is None:
                from bot.service import build_planbot

                try:
                    planbot = await asyncio.to_thread(build_planbot, self.settings)
                except PlanBotError as exc:
                    log.exception("the core failed to load")
                    if fatal:
                        self.startup_error = type(exc).__name__
                    return False
            self.attach(planbot)
            return True

    def close(self) -> None:
        """Stop the event writer, then close the database (the lifespan's last step)."""
        if self.writer is not None:
            self.writer.close()
        self.database.dispose()

    def attach(self, planbot: PlanBot) -> None:
        """The core is loaded: answering can start."""
        from bot.assistant import Assistant

        self.planbot = planbot
        self.assistant = Assistant(planbot, self.answer_log, self.limiter, self.approved)
        self.ready.set()
        self.events_waiting.set()

    def accept_event(self, source: str, event_key: str, payload: dict[str, object]) -> bool:
        """Persist a webhook event for the worker (committed before this returns); False for a redelivery
        we already hold. Blocks a thread; concurrent calls share commits."""
        accepted = (self.writer.accept(source, event_key, dict(payload)) if self.writer is not None
                    else self.inbox.accept(source, event_key, dict(payload)))
        if accepted:
            self.events_waiting.set()
        return accepted

    async def store_events(self, source: str, events: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]:
        """`accept_event` for the (key, payload) events of one webhook request, from the event loop: all in
        one transaction (with whatever else arrived meanwhile), returning once it is committed."""
        stored = (await self.writer.store([(source, key, dict(payload)) for key, payload in events])
                  if self.writer is not None
                  else await asyncio.to_thread(self.inbox.accept_many,
                                               [(source, key, dict(payload)) for key, payload in events]))
        if any(stored):
            self.events_waiting.set()
        return stored


#: Events stored in one transaction at most (a burst is acknowledged in a few commits, not one per event).
MAX_ACCEPT_BATCH = 256
_Event = tuple[str, str, dict[str, Any]]
_Pending = tuple[list[_Event], "Future[list[bool]]"]


class GroupCommit:
    """Stores webhook events in batches, for the requests that acknowledge them: whatever arrived while the
    previous commit was on disk goes into the next transaction (one multi-row INSERT, one commit, one
    fsync). Each request is answered only once its own events are committed, so an acknowledged event is
    durable exactly as with a commit of its own; a burst costs a few commits instead of one per event.

    One writer thread does every write, so the requests never queue on the database's lock (or a thread
    pool): they wait on a future resolved when their batch committed, on the event loop or in a thread.
    """

    def __init__(self, inbox: EventInbox) -> None:
        self.inbox = inbox
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, events: list[_Event]) -> Future[list[bool]]:
        """Queue events for the next commit; the future is their `accept_many` result (or its error)."""
        self._start()
        done: Future[list[bool]] = Future()
        self._queue.put((events, done))
        return done

    async def store(self, events: list[_Event]) -> list[bool]:
        """`submit` and wait on the event loop until committed. Storage errors propagate."""
        return await asyncio.wrap_future(self.submit(events))

    def accept(self, source: str, event_key: str, payload: dict[str, Any]) -> bool:
        """Store one event (blocking until committed); False for a redelivery. Storage errors propagate."""
        return self.submit([(source, event_key, payload)]).result()[0]

    def close(self) -> None:
        """Stop the writer thread after what is queued."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write, name="inbox-group-commit", daemon=True)
                self._thread.start()

    def _write(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            size = len(first[0])
            while size < MAX_ACCEPT_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
                size += len(item[0])
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            stored = self.inbox.accept_many([event for events, _ in batch for event in events])
        except Exception as exc:  # every waiter gets the error: not stored means not acknowledged
            for _, done in batch:
                done.set_exception(exc)
            return
        offset = 0
        for events, done in batch:
            done.set_result(stored[offset:offset + len(events)])
            offset += len(events)


class Channel(Protocol):
    """A platform adapter: its routes, and what it opens and closes with the app."""

    router: APIRouter

    async def startup(self, services: Services) -> None:
        """Open clients, register inbox handlers in `services.handlers`, add shutdown hooks."""


def get_services(request: Request) -> Services:
    """FastAPI dependency: this process's services."""
    services: Services = request.app.state.services
    return services


def get_assistant(request: Request) -> Assistant:
    """FastAPI dependency: the answerer, or 503 while the core is still loading."""
    assistant = get_services(request).assistant
    if assistant is None:
        raise HTTPException(status_code=503, detail="starting up, try again in a few seconds")
    return assistant
