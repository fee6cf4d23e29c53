"""The inbox worker: answers stored webhook events in the background, after they were acknowledged.

It runs inside `planbot serve` (one process does everything), or alone as `planbot worker` (`run_worker`):
no HTTP, any number of such processes beside `planbot serve --web-only` processes on one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid

from pydantic import SecretStr

from adapters.services import Services
from bot.errors import DeliveryError, PlanBotError, StorageError
from bot.settings import Settings
from bot.store.inbox import InboxItem

log = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 1.0
#: A worker process learns of new events only from the database (the web process that stored them is
#: another process), so it polls more often; one indexed query per poll.
WORKER_PROCESS_POLL_SECONDS = 0.2


def worker_name() -> str:
    """Unique per process (host, pid, random), so a restarted process never inherits old claims."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class InboxWorker:
    """Claims due events and runs their source's handler in a thread, `concurrency` at a time.

    Woken at once when this process accepts an event; polls every second for events accepted by other
    workers, retried after a backoff, or left behind by a process that died holding them.
    """

    def __init__(self, services: Services, concurrency: int, idle_poll_s: float = IDLE_POLL_SECONDS) -> None:
        self.services = services
        self.name = worker_name()
        self.concurrency = concurrency
        self.idle_poll_s = idle_poll_s
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
                await asyncio.wait_for(wake.wait(), timeout=self.idle_poll_s)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self.services.events_waiting.set()

    async def _claim(self, limit: int) -> list[InboxItem]:
        try:
            return await asyncio.to_thread(self.services.inbox.claim, self.name, limit)
        except PlanBotError:
            log.exception("cannot claim inbox events; retrying")
            await asyncio.sleep(self.idle_poll_s)
            return []

    async def _handle(self, item: InboxItem) -> None:
        renewing = asyncio.create_task(self._renew_lease(item))
        try:
            await self._handle_held(item)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew_lease(self, item: InboxItem) -> None:
        # A third of the lease: two renewals may fail (a busy database) before another worker could take it.
        interval = self.services.inbox.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                held = await asyncio.to_thread(self.services.inbox.renew, item, self.name)
            except PlanBotError:
                log.warning("could not renew the lease of %s/%s", item.source, item.event_key)
                continue
            if not held:
                log.warning("lost the lease of %s/%s to another worker", item.source, item.event_key)
                return

    async def _handle_held(self, item: InboxItem) -> None:
        inbox = self.services.inbox
        handler = self.services.handlers.get(item.source)
        try:
            if handler is None:
                await asyncio.to_thread(inbox.fail, item, self.name, f"no handler for {item.source}", True)
                return
            delivery = await asyncio.to_thread(handler, item)
            await asyncio.to_thread(inbox.complete, item, self.name, delivery)
        except (DeliveryError, StorageError) as exc:
            # A database that failed mid-answer is as passing as a platform's 503: nothing was sent that the
            # retry could repeat (the inbox records a reply before it is sent).
            retryable = exc.retryable if isinstance(exc, DeliveryError) else True
            try:
                retried = await asyncio.to_thread(inbox.fail, item, self.name, str(exc), retryable)
            except PlanBotError:
                log.exception("could not record the failure; the lease will expire and it is retried")
                return
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


async def run_worker(settings: Settings, concurrency: int) -> int:
    """`planbot worker`: answer stored events until SIGTERM or SIGINT; the exit code.

    The channels register their inbox handlers exactly as in `planbot serve` (same code, same delivery),
    but Slack Socket Mode stays with the web process: receiving events is its job, not a worker's.
    """
    from adapters.app import default_channels

    services = await asyncio.to_thread(Services.open, settings)
    delivery_settings = settings.model_copy(update={"slack_app_token": SecretStr("")})
    try:
        for channel in default_channels(delivery_settings):
            await channel.startup(services)
        if not await services.load_core():
            return 1
        worker = InboxWorker(services, concurrency, idle_poll_s=WORKER_PROCESS_POLL_SECONDS)
        log.info("worker %s answering %s events, %d at a time", worker.name,
                 ", ".join(sorted(services.handlers)) or "no", concurrency)
        await _run_until_signalled(worker)
        return 0
    finally:
        for hook in services.shutdown_hooks:
            await hook()
        services.close()


async def _run_until_signalled(worker: InboxWorker) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    running = asyncio.create_task(worker.run())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    for task in (running, stopping):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # Events in hand finish; an event cut off here is taken over by another worker when its lease ends.
    await worker.drain()
    log.info("worker %s stopped", worker.name)
