"""What the app's lifespan owns (database, answer log, inbox, the core) and hands out through `Depends`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

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
#: Answers one stored webhook event (runs in a worker thread). Raises DeliveryError on platform failure.
EventHandler = Callable[[InboxItem], None]


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

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open the database (migrating it) and the stores on top of it."""
        from bot.store.db import open_database

        database = open_database(settings)
        return cls(
            settings=settings,
            database=database,
            answer_log=AnswerLog(database),
            inbox=EventInbox(database, PayloadSealer(settings.user_hash_salt), settings.inbox_lease_seconds,
                             settings.inbox_max_attempts),
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

    def attach(self, planbot: PlanBot) -> None:
        """The core is loaded: answering can start."""
        from bot.assistant import Assistant

        self.planbot = planbot
        self.assistant = Assistant(planbot, self.answer_log, self.limiter, self.approved)
        self.ready.set()
        self.events_waiting.set()

    def accept_event(self, source: str, event_key: str, payload: dict[str, object]) -> bool:
        """Persist a webhook event for the worker; False for a redelivery we already hold."""
        accepted = self.inbox.accept(source, event_key, dict(payload))
        if accepted:
            self.events_waiting.set()
        return accepted


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
