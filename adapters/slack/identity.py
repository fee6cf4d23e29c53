"""Who the bot is in its workspace (Slack's `auth.test`), asked once per process and shared by every request.

bolt's default single-workspace authorization calls `auth.test` on the first request, and every request that
arrives before that call has returned calls it again: a burst right after start-up became one call per
request, and when Slack's API was slow those requests waited on it and were answered 500 (Slack then
retries them). Acknowledging an event should not wait on Slack at all: the process asks once at start-up
(best effort), only one call is ever in flight, and a failed call is retried by the next request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

log = logging.getLogger(__name__)


class SlackIdentity:
    """The cached `auth.test` of one bot token, as bolt's `authorize` function."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._response: AsyncSlackResponse | None = None
        self._lock = asyncio.Lock()

    async def warm(self) -> None:
        """Ask now, so the first events need not wait; a failure is only logged (requests ask again)."""
        try:
            await self._auth_test()
        except Exception as exc:  # Slack unreachable at start-up must not stop the app
            log.warning("Slack auth.test failed at start-up (%s); retrying on the first event", type(exc).__name__)

    async def result(self) -> AuthorizeResult:
        """The bot's identity and token, from the one cached `auth.test`."""
        response = await self._auth_test()
        return AuthorizeResult.from_auth_test_response(auth_test_response=response, bot_token=self._client.token)

    def authorize_function(self) -> Callable[[], Awaitable[AuthorizeResult]]:
        """bolt's `authorize=`: a plain function (bolt fills a callable's arguments by their names, and a bound
        method's `self` confuses that)."""

        async def authorize() -> AuthorizeResult:
            return await self.result()

        return authorize

    async def _auth_test(self) -> AsyncSlackResponse:
        if self._response is None:
            async with self._lock:
                if self._response is None:  # whoever waited on the lock finds the answer there
                    self._response = await self._client.auth_test()
        return self._response
