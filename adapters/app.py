"""The FastAPI app: LINE and Slack webhooks, the review page, the API, and the lifespan owning clients.

Two layouts share this code. `role="all"` (plain `planbot serve`) loads the core and answers stored events
in the same process. `role="web"` (`planbot serve --web-only`) only verifies, stores and acknowledges;
`planbot worker` processes answer the stored events (adapters/worker.py). A web-only process loads the
core (embedding model and index) only when something it serves needs it — see `core_at_start` and
`CoreOnDemand`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters import api, health
from adapters.review.errors import install_error_pages
from adapters.services import Channel, Services
from adapters.worker import InboxWorker
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.service import PlanBot

log = logging.getLogger(__name__)
Role = Literal["all", "web"]
#: Review pages that work without the core (signing in and out).
REVIEW_PATHS_WITHOUT_CORE = ("/review/login", "/review/logout")


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


def channel_report(settings: Settings, role: Role) -> list[str]:
    """One line per channel for the start-up log: on or off, and why."""
    lines = [_secret_pair("LINE (/line/webhook)", settings.line_channel_secret.get_secret_value(),
                          settings.line_channel_access_token.get_secret_value(),
                          ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN")),
             _secret_pair("Slack (/slack/events)", settings.slack_signing_secret.get_secret_value(),
                          settings.slack_bot_token.get_secret_value(), ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"))]
    if settings.slack_configured:
        socket = bool(settings.slack_app_token.get_secret_value())
        lines.append(f"Slack Socket Mode: {'on (SLACK_APP_TOKEN is set)' if socket else 'off (no SLACK_APP_TOKEN)'}")
    lines.append("review page (/review): on (always; reviewers sign in)")
    lines.append(f"API (/api/ask): {api_report(settings)}")
    if role == "web":
        model = "at start (PLANBOT_API_TOKEN is set)" if core_at_start(settings) else "on first need"
        lines.append(f"answering: off here (--web-only; `planbot worker` answers stored events); model loads {model}")
    else:
        lines.append(f"answering: on in this process, {settings.worker_concurrency} at a time")
    return lines


def api_report(settings: Settings) -> str:
    """What `/api/ask` does with these settings, as `adapters.api` decides it (the log must not say "on"
    for an endpoint that answers 404)."""
    if settings.api_token is not None:
        return "on, bearer token required (PLANBOT_API_TOKEN is set)"
    if settings.environment == "production":
        return "off, answers 404 (no PLANBOT_API_TOKEN in production)"
    return (f"on without a token ({settings.environment}: {settings.api_rate_limit_per_minute} requests per "
            "client address per minute; production needs PLANBOT_API_TOKEN)")


def _secret_pair(name: str, first: str, second: str, variables: tuple[str, str]) -> str:
    missing = [var for var, value in zip(variables, (first, second), strict=True) if not value]
    if not missing:
        return f"{name}: on"
    return f"{name}: off ({' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set)"


def core_at_start(settings: Settings) -> bool:
    """Whether a web-only process loads the core at start: when `PLANBOT_API_TOKEN` is set, /api/ask is in
    use and its callers should not wait for the model. Otherwise the core loads on first need."""
    return settings.api_token is not None


def create_app(settings: Settings, planbot: PlanBot | None = None,
               channels: list[Channel] | None = None, role: Role = "all") -> FastAPI:
    """Build the app. `planbot` may be passed in (tests share one); otherwise it loads in the background."""
    chosen = default_channels(settings) if channels is None else channels

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await asyncio.to_thread(Services.open, settings)
        app.state.services = services
        for channel in chosen:
            await channel.startup(services)
        worker: InboxWorker | None = None
        tasks: list[asyncio.Task[object]] = []
        if role == "all":
            worker = InboxWorker(services, settings.worker_concurrency)
            tasks = [asyncio.create_task(services.load_core(planbot)), asyncio.create_task(worker.run())]
        else:
            services.ready.set()  # a web process is ready once it can store events
            if planbot is not None or core_at_start(settings):
                tasks.append(asyncio.create_task(services.load_core(planbot, fatal=False)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if worker is not None:
                await worker.drain()
            for hook in services.shutdown_hooks:
                await hook()
            services.close()

    app = FastAPI(title="planbot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    install_error_pages(app, _invalid_request)  # browsers get Japanese pages, API clients keep JSON
    if role == "web":
        app.add_middleware(CoreOnDemand)
    app.include_router(health.router)
    app.include_router(api.router)
    for channel in chosen:
        app.include_router(channel.router)
    return app


class CoreOnDemand:
    """Web-only: load the core before a request that needs it, once; webhooks and /healthz never wait.

    Needs it: `/api/ask` where it is open (a token is set, or not production) and the review pages of a
    signed-in reviewer (the dashboard reads the plan tree, a correction embeds its question). Anonymous
    requests never load the model. If loading fails, the route answers 503 and the next request retries.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            services: Services | None = getattr(scope["app"].state, "services", None)
            if services is not None and services.planbot is None and _needs_core(scope, services):
                await services.load_core(fatal=False)
        await self.app(scope, receive, send)


def _needs_core(scope: Scope, services: Services) -> bool:
    path: str = scope.get("path", "")
    if path == "/api/ask":
        settings = services.settings
        return settings.api_token is not None or settings.environment != "production"
    if path.startswith("/review") and path not in REVIEW_PATHS_WITHOUT_CORE:
        from adapters.review.auth import signed_session_id

        return signed_session_id(Request(scope)) is not None
    return False


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's default echoes the input back (a user's text) and fails with a 500 on bytes that are not UTF-8.
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in errors]
    return JSONResponse({"detail": detail}, status_code=422)


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory adapters.app:app_factory` (settings from the environment)."""
    return create_app(Settings())


def web_app_factory() -> FastAPI:
    """Entry point for several web-only processes (`planbot serve --web-only --workers N`)."""
    return create_app(Settings(), role="web")
