"""The FastAPI app: LINE and Slack webhooks, the review page, the API, and the lifespan owning clients."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from adapters import api
from adapters.services import Channel, Services
from adapters.worker import InboxWorker
from bot.errors import PlanBotError
from bot.service import PlanBot, build_planbot
from bot.settings import Settings

log = logging.getLogger(__name__)


def default_channels(settings: Settings) -> list[Channel]:
    """The platform adapters this deployment has settings for (the review page is always on)."""
    from adapters.review import ReviewChannel

    channels: list[Channel] = [ReviewChannel()]
    if settings.line_configured:
        from adapters.line import LineChannel

        channels.append(LineChannel(settings))
    if settings.slack_configured:
        from adapters.slack import SlackChannel

        channels.append(SlackChannel(settings))
    return channels


def create_app(settings: Settings, planbot: PlanBot | None = None,
               channels: list[Channel] | None = None) -> FastAPI:
    """Build the app. `planbot` may be passed in (tests share one); otherwise it loads in the background."""
    chosen = default_channels(settings) if channels is None else channels

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await asyncio.to_thread(Services.open, settings)
        app.state.services = services
        for channel in chosen:
            await channel.startup(services)
        worker = InboxWorker(services, settings.worker_concurrency)
        tasks = [asyncio.create_task(_load_core(services, planbot)), asyncio.create_task(worker.run())]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await worker.drain()
            for hook in services.shutdown_hooks:
                await hook()
            services.database.dispose()

    app = FastAPI(title="planbot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.include_router(api.router)
    for channel in chosen:
        app.include_router(channel.router)
    return app


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's default echoes the input back (a user's text) and fails with a 500 on bytes that are not UTF-8.
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in errors]
    return JSONResponse({"detail": detail}, status_code=422)


async def _load_core(services: Services, planbot: PlanBot | None) -> None:
    if planbot is None:
        try:
            planbot = await asyncio.to_thread(build_planbot, services.settings)
        except PlanBotError as exc:
            log.exception("the core failed to load")
            services.startup_error = type(exc).__name__
            return
    services.attach(planbot)


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory adapters.app:app_factory` (settings from the environment)."""
    return create_app(Settings())
