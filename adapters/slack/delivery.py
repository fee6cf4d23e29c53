"""The inbox handler for Slack: answers stored events and posts the answer (runs in a worker thread).

Uses the sync `slack_sdk.WebClient` (its calls block, which is what a worker thread wants). Slack's
429 and 5xx and network failures raise `DeliveryError(retryable=True)`; the inbox retries with backoff.

Posting is at most once, as for LINE (adapters/line/handler.py): the event is marked "replying" before the
post. A worker that takes over an event whose worker died mid-post looks for the answer in the thread (its
buttons carry the answer id) and posts only if it is not there; where it cannot look (a top-level DM, an
ephemeral `/plan` answer, a share) the outcome is unknown and it posts nothing more ("unknown", logged).
When Slack answered that the post failed ("reply_failed"), the retry posts again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient
from sqlalchemy import select

from adapters.answer_text import plain_text
from adapters.services import Services
from adapters.slack.blocks import AnswerView, Block, answer_blocks, fallback_text, slack_to_plain
from bot.errors import DeliveryError
from bot.store.inbox import REPLY_FAILED, REPLYING, SENT, UNKNOWN, InboxItem
from bot.store.models import AnswerRecord
from bot.types import Answer, Question

log = logging.getLogger(__name__)
CONTEXT_QUESTIONS = 3
#: Posting with the bot token fails here, but the interaction's response_url still works.
NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found"})


def _raise_for(exc: Exception) -> DeliveryError:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        return DeliveryError(f"slack {status} {error}", retryable=status == 429 or status >= 500)
    return DeliveryError(f"slack unreachable: {type(exc).__name__}", retryable=True)


def slack_call(call: Callable[..., SlackResponse], **kwargs: Any) -> SlackResponse:
    """One Web API call; Slack's refusal or absence becomes a typed `DeliveryError`."""
    try:
        return call(**kwargs)
    except (SlackApiError, SlackClientError, OSError) as exc:
        raise _raise_for(exc) from exc


class SlackRefused(Exception):
    """The cause of a `DeliveryError` for which Slack answered with an error status (so nothing was posted)."""


def respond(response_url: str, timeout: int = 10, **body: Any) -> None:
    """Post to an interaction's `response_url`; 429/5xx/network failures are retryable."""
    try:
        result = WebhookClient(response_url, timeout=timeout).send_dict(body)
    except (SlackClientError, OSError) as exc:
        raise DeliveryError(f"response_url unreachable: {type(exc).__name__}", retryable=True) from exc
    if result.status_code >= 300:
        retryable = result.status_code == 429 or result.status_code >= 500
        raise DeliveryError(f"response_url {result.status_code}", retryable=retryable) from SlackRefused()


def slack_answered(exc: DeliveryError) -> bool:
    """Slack answered the call with an error (it posted nothing), as opposed to not answering at all."""
    return isinstance(exc.__cause__, SlackApiError | SlackRefused)


class SlackDelivery:
    """Answers `message` (mention / DM), `command` (/plan) and `share` events from the inbox."""

    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.client = client

    def handle(self, item: InboxItem) -> str | None:
        """The inbox worker's entry point for source "slack"; the delivery outcome."""
        if item.delivery in (SENT, UNKNOWN):
            return item.delivery
        kind = item.payload.get("kind")
        if kind == "message":
            return self._answer_message(item)
        if kind == "command":
            return self._answer_command(item)
        if kind == "share":
            return self._share(item)
        raise DeliveryError(f"unknown slack event kind {kind!r}", retryable=False)

    def _send_once(self, item: InboxItem, send: Callable[[], None],
                   posted_earlier: Callable[[], bool] | None = None) -> str | None:
        """`send()` at most once over every attempt (see the module's docstring); the outcome, or None when
        another worker took the event over. `posted_earlier`: whether an interrupted earlier post arrived."""
        inbox = self.services.inbox
        if item.delivery == REPLYING:
            if posted_earlier is None:
                log.warning("slack event %s: an earlier post's outcome is unknown and cannot be checked; not "
                            "posting again", item.event_key)
                return UNKNOWN
            if posted_earlier():
                log.info("slack event %s was answered by an earlier attempt; not posting twice", item.event_key)
                return SENT
        elif not inbox.mark_delivery(item, REPLYING):
            log.warning("slack event %s was taken over by another worker; this one posts nothing", item.event_key)
            return None
        try:
            send()
        except DeliveryError as exc:
            if slack_answered(exc):
                inbox.mark_delivery(item, REPLY_FAILED)
            raise
        return SENT

    def _answer_message(self, item: InboxItem) -> str | None:
        payload = item.payload
        view = self._answer(item)
        if payload.get("show_question"):
            view = replace(view, question=payload.get("text"))
        blocks = answer_blocks(view)

        def post() -> None:
            slack_call(self.client.chat_postMessage, channel=payload["channel"], thread_ts=payload.get("reply_ts"),
                       text=fallback_text(view), blocks=blocks, unfurl_links=False, unfurl_media=False)

        threaded = payload.get("reply_ts") and view.answer_id is not None
        outcome = self._send_once(item, post, (lambda: self._already_posted(payload, view.answer_id))
                                  if threaded else None)
        if outcome == SENT:
            self._keep_rendered(view, blocks)
        return outcome

    def _keep_rendered(self, view: AnswerView, blocks: list[Block]) -> None:
        if view.answer_id is not None:
            self.services.answer_log.set_rendered(view.answer_id, {"slack": blocks})

    def _already_posted(self, payload: dict[str, Any], answer_id: int | None) -> bool:
        # A worker killed after chat.postMessage but before marking the event done leaves the answer in
        # the thread; its feedback buttons carry the answer id.
        thread = payload.get("reply_ts")
        if not thread or answer_id is None:
            return False
        try:
            replies = slack_call(self.client.conversations_replies, channel=payload["channel"], ts=thread, limit=200)
        except DeliveryError as exc:
            if exc.retryable:
                raise
            return False
        marker = f'"value": "{answer_id}"'
        return any(m.get("bot_id") and marker in json.dumps(m.get("blocks") or [])
                   for m in replies.get("messages") or [])

    def _answer_command(self, item: InboxItem) -> str | None:
        payload = item.payload
        view = replace(self._answer(item), question=payload["text"])
        blocks = answer_blocks(view, shareable=True)
        outcome = self._send_once(item, lambda: respond(payload["response_url"], response_type="ephemeral",
                                                        text=fallback_text(view), blocks=blocks))
        if outcome == SENT:
            self._keep_rendered(view, blocks)
        return outcome

    def _answer(self, item: InboxItem) -> AnswerView:
        """The logged answer to this event: reused if a previous attempt already answered it."""
        earlier = self._logged_answer(item.event_key)
        if earlier is not None:
            return earlier
        assistant = self.services.assistant
        if assistant is None:
            raise DeliveryError("the core is not loaded yet", retryable=True)
        payload = item.payload
        question = Question(text=payload.get("text") or "", channel="slack", user_id=payload.get("user"),
                            context=self._thread_context(payload))
        logged = assistant.answer(question, event_key=item.event_key)
        return staff_view(logged.answer, logged.answer_id)

    def _logged_answer(self, event_key: str) -> AnswerView | None:
        # A retry after a failed post must not ask (and log) the same question twice.
        with self.services.database.session() as session:
            row = session.scalars(select(AnswerRecord).where(
                AnswerRecord.channel == "slack", AnswerRecord.event_key == event_key
            ).order_by(AnswerRecord.id).limit(1)).first()
            return None if row is None else replace(record_view(row), question=None)

    def _thread_context(self, payload: dict[str, Any]) -> tuple[str, ...]:
        """Earlier questions of the thread this message is in (the thread's first message first)."""
        thread_ts, ts = payload.get("thread_ts"), payload.get("ts")
        if not thread_ts or thread_ts == ts:
            return ()
        try:
            replies = slack_call(self.client.conversations_replies, channel=payload["channel"], ts=thread_ts,
                                 limit=50)
        except DeliveryError as exc:
            if exc.retryable:
                raise
            log.warning("no thread context (%s); answering without it", exc)
            return ()
        mention = f"<@{payload.get('bot_user_id')}>"
        questions: list[str] = []
        for message in replies.get("messages") or []:
            if message.get("bot_id") or message.get("subtype") or float(message.get("ts", 0)) >= float(ts or 0):
                continue
            raw = str(message.get("text") or "")
            if payload.get("dm") or message.get("ts") == thread_ts or mention in raw:
                text = slack_to_plain(raw)
                if text and text not in questions:
                    questions.append(text)
        return tuple(questions[-CONTEXT_QUESTIONS:])

    def _share(self, item: InboxItem) -> str | None:
        """Post an ephemeral /plan answer visibly in the channel, then remove the ephemeral copy."""
        payload = item.payload
        row = self.services.answer_log.get(int(payload["answer_id"]))
        if row is None:
            raise DeliveryError("shared answer is no longer in the log", retryable=False)
        view = record_view(row)
        blocks = answer_blocks(view, shared_by=payload["user"])
        response_url = payload.get("response_url")

        def post() -> None:
            try:
                slack_call(self.client.chat_postMessage, channel=payload["channel"], text=fallback_text(view),
                           blocks=blocks, unfurl_links=False, unfurl_media=False)
            except DeliveryError as exc:
                if exc.retryable or not response_url or not any(e in str(exc) for e in NOT_A_MEMBER):
                    raise
                respond(response_url, response_type="in_channel", replace_original=False,
                        text=fallback_text(view), blocks=blocks)

        outcome = self._send_once(item, post)
        if outcome == SENT and response_url:
            try:
                respond(response_url, delete_original=True)
            except DeliveryError as exc:
                log.info("could not remove the ephemeral copy after sharing: %s", exc)
        return outcome


def staff_view(answer: Answer, answer_id: int | None) -> AnswerView:
    """The answer as staff read it: the lead, every point, the ids and paths; a department only when the
    contacts file names one (never the switchboard) and no citizen scope note."""
    contact = answer.contact
    return AnswerView(plain_text(answer.lead or answer.text), tuple((c.id, c.path) for c in answer.citations),
                      answer_id, related=answer.related, kind=answer.kind,
                      candidates=tuple((c.id, c.title or c.path) for c in answer.candidates),
                      points=tuple(p.text for p in answer.points),
                      department=contact.display if contact is not None and contact.node_id is not None else "")


def record_view(row: AnswerRecord) -> AnswerView:
    """An answer log row as renderable data (question as logged, i.e. with personal data masked): its first
    paragraph is the lead, its bullet lines the points."""
    citations = tuple((str(c.get("id", "")), str(c.get("path", ""))) for c in row.citations or [])
    lead, _, rest = row.answer_text.partition("\n\n")
    points = tuple(line.strip()[1:].strip() for line in rest.splitlines() if line.strip().startswith("・"))
    return AnswerView(lead.strip(), citations, row.id, question=row.question, kind=row.kind, points=points)
