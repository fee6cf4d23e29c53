"""The inbox worker: answers stored webhook events in the background, after they were acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

from adapters.services import Services
from bot.errors import DeliveryError, PlanBotError
from bot.store.inbox import InboxItem

log = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 1.0


def worker_name() -> str:
    """Unique per process (host, pid, random), so a restarted process never inherits old claims."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class InboxWorker:
    """Claims due events and runs their source's handler in a thread, `concurrency` at a time.

    Woken at once when this process accepts an event; polls every second for events accepted by other
    workers, retried after a backoff, or left behind by a process that died holding them.
    """

    def __init__(self, services: Services, concurrency: int) -> None:
        self.services = services
        self.name = worker_name()
        self.concurrency = concurrency
        self._running: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Loop until cancelled."""
        await self.services.ready.wait()
        wake = self.services.events_waiting
        while True:
            free = self.concurrency - len(self._running)
            items = await self._claim(free) if free > 0 else []
            for item in items:
                task = asyncio.create_task(self._handle(item))
                self._running.add(task)
                task.add_done_callback(self._finished)
            if items and len(items) == free:
                continue
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=IDLE_POLL_SECONDS)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self.services.events_waiting.set()

    async def _claim(self, limit: int) -> list[InboxItem]:
        try:
            return await asyncio.to_thread(self.services.inbox.claim, self.name, limit)
        except PlanBotError:
            log.exception("cannot claim inbox events; retrying")
            await asyncio.sleep(IDLE_POLL_SECONDS)
            return []

    async def _handle(self, item: InboxItem) -> None:
        inbox = self.services.inbox
        handler = self.services.handlers.get(item.source)
        try:
            if handler is None:
                await asyncio.to_thread(inbox.fail, item, self.name, f"no handler for {item.source}", True)
                return
            await asyncio.to_thread(handler, item)
            await asyncio.to_thread(inbox.complete, item, self.name)
        except DeliveryError as exc:
            retried = await asyncio.to_thread(inbox.fail, item, self.name, str(exc), exc.retryable)
            log.warning("delivery of %s/%s failed (%s); %s", item.source, item.event_key, exc,
                        "will retry" if retried else "gave up")
        except Exception as exc:
            log.exception("handling %s/%s failed", item.source, item.event_key)
            try:
                await asyncio.to_thread(inbox.fail, item, self.name, type(exc).__name__, False)
            except PlanBotError:
                log.exception("could not record the failure; the lease will expire and it is retried")

    async def drain(self) -> None:
        """Wait for the events in hand to finish (graceful shutdown)."""
        if self._running:
            await asyncio.wait(self._running, timeout=10)
