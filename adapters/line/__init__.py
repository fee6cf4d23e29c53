"""The LINE channel: `POST /line/webhook`, answered in the background by the inbox worker."""

from __future__ import annotations

from fastapi import APIRouter

from adapters.line.client import LineClient
from adapters.line.handler import LineEventHandler
from adapters.line.webhook import build_router
from adapters.services import Services
from bot.settings import Settings

__all__ = ["LineChannel"]


class LineChannel:
    """The LINE Messaging API adapter (a `Channel`): its route, its API client, its inbox handler."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router: APIRouter = build_router(settings)
        self.client: LineClient | None = None

    async def startup(self, services: Services) -> None:
        """Open the API client, register the handler, close the client on shutdown."""
        client = LineClient(self.settings, pool_size=self.settings.worker_concurrency)
        self.client = client
        services.handlers["line"] = LineEventHandler(services, client)

        async def close() -> None:
            client.close()

        services.shutdown_hooks.append(close)
