"""The LINE Messaging API calls the bot makes (linebot.v3, sync, used from the inbox worker's threads).

Every call goes to `LINE_API_BASE_URL`. Failures become `DeliveryError`: 429, 5xx and network errors
are retryable, other 4xx are not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessageAction,
    MessagingApi,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)

from adapters.line.render import LineReply, QuickButton
from bot.errors import DeliveryError
from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
#: (connect, read) seconds for every LINE API call.
TIMEOUT = (3.0, 10.0)
LOADING_SECONDS = 20


def _action(button: QuickButton) -> MessageAction | PostbackAction:
    if button.data:
        return PostbackAction(label=button.label, data=button.data, displayText=button.text or None)
    return MessageAction(label=button.label, text=button.text)


def to_line_messages(reply: LineReply) -> list[TextMessage]:
    """SDK text messages; the quick-reply buttons ride on the last one (LINE shows only the last's)."""
    quick = None
    if reply.quick:
        quick = QuickReply(items=[QuickReplyItem(action=_action(b)) for b in reply.quick])
    last = len(reply.texts) - 1
    return [TextMessage(text=text, quick_reply=quick if i == last else None) for i, text in enumerate(reply.texts)]


def rendered_payload(reply: LineReply) -> dict[str, Any]:
    """The messages exactly as sent to LINE (for the answer log's "what the user saw")."""
    return {"line": [message.to_dict() for message in to_line_messages(reply)]}


class LineClient:
    """One urllib3-backed ApiClient per app; thread-safe for the worker's concurrent handlers."""

    def __init__(self, settings: Settings, pool_size: int) -> None:
        config = Configuration(host=settings.line_api_base_url.rstrip("/"),
                               access_token=settings.line_channel_access_token.get_secret_value())
        # Retries belong to the inbox (with backoff and a retry key), not to urllib3.
        config.retries = 0
        config.connection_pool_maxsize = max(pool_size, 1)
        self._api_client = ApiClient(config)
        self._api = MessagingApi(self._api_client)

    def show_loading(self, chat_id: str) -> None:
        """Best effort: the loading animation is a courtesy, so its failure never blocks the answer."""
        request = ShowLoadingAnimationRequest(chat_id=chat_id, loading_seconds=LOADING_SECONDS)
        try:
            self._api.show_loading_animation(request, _request_timeout=TIMEOUT)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            log.info("loading animation not shown: %s", _describe(exc))

    def reply(self, reply_token: str, reply: LineReply) -> None:
        """Answer with the event's reply token (free, valid about a minute, usable once)."""
        request = ReplyMessageRequest(reply_token=reply_token, messages=to_line_messages(reply))
        self._call("reply", lambda: self._api.reply_message(request, _request_timeout=TIMEOUT))

    def push(self, to: str, reply: LineReply, retry_key: str) -> None:
        """Push (metered). LINE answers 409 for a retry key it already accepted: that is a success."""
        request = PushMessageRequest(to=to, messages=to_line_messages(reply))
        try:
            self._call("push", lambda: self._api.push_message(request, x_line_retry_key=retry_key,
                                                              _request_timeout=TIMEOUT))
        except DeliveryError as exc:
            if getattr(exc.__cause__, "status", None) == 409:
                log.info("push %s was already accepted by LINE", retry_key)
                return
            raise

    def close(self) -> None:
        """Release the connection pool."""
        self._api_client.close()
        self._api_client.rest_client.pool_manager.clear()

    @staticmethod
    def _call(what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except ApiException as exc:
            status = int(exc.status or 0)
            raise DeliveryError(f"LINE {what} answered {status}", retryable=status == 429 or status >= 500) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise DeliveryError(f"LINE {what} unreachable: {type(exc).__name__}", retryable=True) from exc


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    return f"HTTP {status}" if status else type(exc).__name__
