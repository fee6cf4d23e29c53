"""The LINE Messaging API calls the bot makes (linebot.v3, sync, used from the inbox worker's threads).

Every call goes to `LINE_API_BASE_URL`. Failures become `DeliveryError`: 429, 5xx and network errors
are retryable, other 4xx are not. A reply or push whose Flex bubble LINE refuses (400) is sent again at once as
its plain-text fallback, so the user gets the answer either way.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    FlexMessage,
    Message,
    MessageAction,
    MessagingApi,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
    URIAction,
)

from adapters.line.render import MAX_MESSAGES, LineReply, QuickButton
from bot.errors import DeliveryError
from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
#: (connect, read) seconds for every LINE API call.
TIMEOUT = (3.0, 10.0)
LOADING_SECONDS = 20


def _action(button: QuickButton) -> MessageAction | PostbackAction | URIAction:
    if button.uri:
        return URIAction(label=button.label, uri=button.uri)
    if button.data:
        return PostbackAction(label=button.label, data=button.data, displayText=button.text or None)
    return MessageAction(label=button.label, text=button.text)


def to_line_messages(reply: LineReply, plain: bool = False) -> list[Message]:
    """SDK messages: the texts before, then the bubble (or, `plain` or without one, the fallback texts); the
    quick-reply buttons ride on the last one (LINE shows only the last's)."""
    quick = QuickReply(items=[QuickReplyItem(action=_action(b)) for b in reply.quick]) if reply.quick else None
    messages: list[Message] = [TextMessage(text=text) for text in reply.before]
    if reply.bubble is not None and not plain:
        bubble = FlexMessage.from_dict({"type": "flex", "altText": reply.alt_text, "contents": reply.bubble})
        if bubble is not None:
            messages.append(bubble)
    if len(messages) == len(reply.before):
        messages += [TextMessage(text=text) for text in reply.texts]
    messages = messages[:MAX_MESSAGES]
    messages[-1].quick_reply = quick
    return messages


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
        def send(plain: bool) -> None:
            request = ReplyMessageRequest(reply_token=reply_token, messages=to_line_messages(reply, plain))
            self._call("reply", lambda: self._api.reply_message(request, _request_timeout=TIMEOUT))

        _with_fallback(reply, send)

    def push(self, to: str, reply: LineReply, retry_key: str) -> None:
        """Push (metered). LINE answers 409 for a retry key it already accepted: that is a success.

        The plain-text fallback of a refused bubble goes with another retry key: LINE did not take the first.
        """
        def send(plain: bool) -> None:
            key = str(uuid.uuid5(uuid.UUID(retry_key), "plain")) if plain else retry_key
            request = PushMessageRequest(to=to, messages=to_line_messages(reply, plain))
            self._call("push", lambda: self._api.push_message(request, x_line_retry_key=key,
                                                              _request_timeout=TIMEOUT))

        try:
            _with_fallback(reply, send)
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


def _with_fallback(reply: LineReply, send: Callable[[bool], None]) -> None:
    """Send the bubble; if LINE refuses it as invalid (400, not a used reply token), send the plain texts."""
    try:
        send(False)
    except DeliveryError as exc:
        cause = exc.__cause__
        refused = getattr(cause, "status", None) == 400 and "Invalid reply token" not in str(getattr(cause, "body", ""))
        if reply.bubble is None or not refused:
            raise
        log.warning("LINE refused the Flex bubble (%s); sending the plain-text fallback", _describe(cause))
        send(True)


def _describe(exc: BaseException | None) -> str:
    status = getattr(exc, "status", None)
    return f"HTTP {status}" if status else type(exc).__name__
