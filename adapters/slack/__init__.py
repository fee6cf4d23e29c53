"""The Slack channel: slack-bolt (async) at `POST /slack/events`, answers delivered by the inbox worker.

Socket Mode (for development without a public URL) starts too when `SLACK_APP_TOKEN` is set; it feeds
the same listeners, so storage, dedupe and delivery are identical.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.request.internals import parse_body
from slack_sdk import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from adapters.services import Services
from adapters.slack.bolt_app import build_bolt_app
from adapters.slack.delivery import SlackDelivery
from adapters.slack.identity import SlackIdentity
from bot.settings import Settings

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1_000_000
API_TIMEOUT_S = 10
ACK_THREADS = 4


def api_base_url(settings: Settings) -> str:
    """`SLACK_API_URL` with the trailing slash slack_sdk needs."""
    url = settings.slack_api_url
    return url if url.endswith("/") else url + "/"


class SlackChannel:
    """The Slack adapter: its route, and the clients it opens at start-up and closes at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router = APIRouter()
        self.router.add_api_route("/slack/events", self.events, methods=["POST"], include_in_schema=False)
        self._handler: AsyncSlackRequestHandler | None = None

    async def startup(self, services: Services) -> None:
        """Open the Web API clients, build the bolt app, register the inbox handler and shutdown hook."""
        token = self.settings.slack_bot_token.get_secret_value()
        base_url = api_base_url(self.settings)
        # No shared aiohttp session: bolt deep-copies the client for lazy listeners, and a session can't be.
        client = AsyncWebClient(token=token, base_url=base_url, timeout=API_TIMEOUT_S)
        executor = ThreadPoolExecutor(max_workers=ACK_THREADS, thread_name_prefix="slack-ack")
        identity = SlackIdentity(client)
        await identity.warm()
        app = build_bolt_app(services, client, identity, executor)
        self._handler = AsyncSlackRequestHandler(app)
        delivery = SlackDelivery(services, WebClient(token=token, base_url=base_url, timeout=API_TIMEOUT_S))
        services.handlers["slack"] = delivery.handle
        socket: AsyncSocketModeHandler | None = None
        app_token = self.settings.slack_app_token.get_secret_value()
        if app_token:
            socket = AsyncSocketModeHandler(app, app_token=app_token, web_client=client)
            await socket.connect_async()
            log.info("Slack Socket Mode connected")

        async def close() -> None:
            self._handler = None
            if socket is not None:
                await socket.close_async()
            executor.shutdown(wait=True)

        services.shutdown_hooks.append(close)

    async def events(self, request: Request) -> Response:
        """Every Slack request (events, slash commands, interactions); bolt verifies the signature."""
        if self._handler is None:
            raise HTTPException(status_code=503, detail="starting up")
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail="request too large")
        if not _bolt_can_parse(await request.body(), request.headers.get("content-type")):
            # bolt parses the body before it checks the signature, and fails with a 500 on garbage
            log.info("unparsable Slack request body (%s)", request.headers.get("content-type"))
            return JSONResponse({"error": "malformed body"}, status_code=400)
        return await self._handler.handle(request)


def _bolt_can_parse(body: bytes, content_type: str | None) -> bool:
    try:
        return isinstance(parse_body(body.decode("utf-8"), content_type), dict)
    except ValueError:
        return False


__all__ = ["SlackChannel", "api_base_url"]
