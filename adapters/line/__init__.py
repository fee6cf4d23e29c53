"""The LINE channel: `POST /line/webhook`, answered in the background by the inbox worker."""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor

from fastapi import APIRouter

from adapters.line.client import LineClient
from adapters.line.handler import LineEventHandler
from adapters.line.webhook import build_router
from adapters.services import Services
from bot.settings import Settings

__all__ = ["LineChannel"]
#: Threads that store acknowledged events (SQLite serialises the writes; more would only queue there).
STORE_THREADS = 4


class LineChannel:
    """The LINE Messaging API adapter (a `Channel`): its route, its API client, its inbox handler."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router: APIRouter = build_router(settings, lambda: self.store_executor)
        self.client: LineClient | None = None
        self.store_executor: Executor | None = None

    async def startup(self, services: Services) -> None:
        """Open the API client and the event-storing threads, register the handler, close both on shutdown."""
        client = LineClient(self.settings, pool_size=self.settings.worker_concurrency)
        executor = ThreadPoolExecutor(max_workers=STORE_THREADS, thread_name_prefix="line-webhook")
        self.client, self.store_executor = client, executor
        services.handlers["line"] = LineEventHandler(services, client)

        async def close() -> None:
            executor.shutdown(wait=True)
            client.close()

        services.shutdown_hooks.append(close)
