"""The slack-bolt AsyncApp: verifies requests, stores events in the inbox, records feedback clicks.

`process_before_response=True`: a listener finishes before Slack gets its 200, so an event is in the
database (durably, deduplicated by Slack's event id) before we acknowledge it. Listeners only store and
acknowledge (milliseconds); answers are produced by the inbox worker (`delivery.py`). The 👎 modal and the
"thanks" note run as lazy listeners after the ack, because `views.open` needs the click's trigger_id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.services import Services
from adapters.slack.blocks import (
    ACTION_ASK,
    ACTION_CONTACT,
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_SHARE,
    FEEDBACK_VIEW,
    NOTE_ACTION,
    NOTE_BLOCK,
    REASON_ACTION,
    REASON_BLOCK,
    defuse,
    feedback_modal,
    modal_answer_id,
    parse_answer_id,
    slack_to_plain,
    thanks_text,
)
from adapters.slack.identity import SlackIdentity
from bot.contacts import Contact, ContactBook
from bot.store.answer_log import FEEDBACK_REASONS
from bot.store.privacy import hash_user, mask_personal_data

log = logging.getLogger(__name__)
SOURCE = "slack"
USAGE_JA = "使い方: `/plan 質問` （例: `/plan 冬の除雪はどうなる？`）"
NOTE_REQUIRED_JA = "当てはまるものを選ぶか、どこが違ったかを書いてください。"

Payload = dict[str, Any]
T = TypeVar("T")


class SlackListeners:
    """The bolt listeners, bound to this process's services."""

    def __init__(self, services: Services, executor: Executor | None = None) -> None:
        self.services = services
        # Acks get their own threads: the default executor is shared with the worker's answering threads,
        # and an ack must not queue behind an answer being composed.
        self.executor = executor

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, func, *args)

    def _user_hash(self, user_id: str | None) -> str | None:
        return hash_user(self.services.settings.user_hash_salt, SOURCE, user_id)

    async def _accept(self, key: str, payload: Payload) -> bool:
        # Committed (with whatever else arrived meanwhile) before bolt acknowledges. A database failure
        # propagates: bolt answers 500 and Slack delivers the event again later.
        return (await self.services.store_events(SOURCE, [(key, payload)]))[0]

    async def on_mention(self, body: Payload, event: Payload, context: AsyncBoltContext) -> None:
        """`@planbot 質問` in a channel: answered in the message's thread."""
        if event.get("bot_id") or event.get("subtype"):
            return
        await self._accept_message(body, event, context, reply_ts=event.get("thread_ts") or event.get("ts"))

    async def on_message(self, body: Payload, event: Payload, context: AsyncBoltContext) -> None:
        """A direct message to the bot (other message events are acknowledged and ignored)."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        await self._accept_message(body, event, context, reply_ts=event.get("thread_ts"))

    async def _accept_message(self, body: Payload, event: Payload, context: AsyncBoltContext,
                              reply_ts: str | None) -> None:
        event_id = body.get("event_id")
        if not event_id or not event.get("channel"):
            return
        payload: Payload = {
            "kind": "message", "channel": event["channel"], "user": event.get("user"),
            "text": slack_to_plain(str(event.get("text") or "")), "ts": event.get("ts"),
            "thread_ts": event.get("thread_ts"), "reply_ts": reply_ts, "dm": event.get("channel_type") == "im",
            "bot_user_id": context.bot_user_id,
        }
        if not await self._accept(str(event_id), payload):
            log.info("slack event %s redelivered (retry %s); already held", event_id, context.get("retry_num"))

    async def on_command(self, ack: AsyncAck, command: Payload) -> None:
        """`/plan 質問`: acknowledged at once; the answer follows as an ephemeral message."""
        text = slack_to_plain(str(command.get("text") or ""))
        if not text or not command.get("response_url"):
            await ack(text=USAGE_JA)
            return
        key = f"command:{command.get('trigger_id') or uuid.uuid4().hex}"
        await self._accept(key, {"kind": "command", "channel": command.get("channel_id"),
                                 "user": command.get("user_id"), "text": text,
                                 "response_url": command["response_url"]})
        await ack()

    async def on_feedback(self, ack: AsyncAck, body: Payload, action: Payload) -> None:
        """👍/👎: stored for this user (the latest click wins), then acknowledged."""
        answer_id = parse_answer_id(action.get("value"))
        user_hash = self._user_hash((body.get("user") or {}).get("id"))
        value = "up" if action.get("action_id") == ACTION_FEEDBACK_UP else "down"
        if answer_id is not None and user_hash is not None:
            stored = await self._run(self.services.answer_log.set_feedback, answer_id, user_hash, value)
            if not stored:
                log.warning("feedback for unknown answer %s", answer_id)
        await ack()

    async def thank(self, body: Payload, client: AsyncWebClient) -> None:
        """After 👍: a short ephemeral thank-you to the clicker (best effort)."""
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        if not channel or not user:
            return
        thread_ts = (body.get("message") or {}).get("thread_ts")
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=thanks_text("up"), thread_ts=thread_ts)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.info("could not thank for feedback: %s", type(exc).__name__)

    async def open_note_modal(self, body: Payload, client: AsyncWebClient) -> None:
        """After 👎: a modal asking what was wrong (the trigger_id is valid for 3 seconds)."""
        action = (body.get("actions") or [{}])[0]
        answer_id = parse_answer_id(action.get("value"))
        if answer_id is None or not body.get("trigger_id"):
            return
        english = "Not right" in str((action.get("text") or {}).get("text", ""))
        channel = (body.get("channel") or {}).get("id")
        thread_ts = (body.get("message") or {}).get("thread_ts")
        try:
            await client.views_open(trigger_id=body["trigger_id"],
                                    view=feedback_modal(answer_id, channel, thread_ts, english))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not open the feedback modal: %s", type(exc).__name__)

    async def on_note(self, ack: AsyncAck, body: Payload, view: Payload) -> None:
        """The 👎 modal's submission: the reason and the note (personal data masked), stored with the feedback."""
        answer_id = modal_answer_id(str(view.get("private_metadata") or ""))
        note, reason = _submitted(view)
        if not note and reason is None:
            await ack(response_action="errors", errors={NOTE_BLOCK: NOTE_REQUIRED_JA})
            return
        user_hash = self._user_hash((body.get("user") or {}).get("id"))
        if answer_id is not None and user_hash is not None:
            await self._run(lambda: self.services.answer_log.set_feedback(
                answer_id, user_hash, "down", note=note[:2000] or None, reason=reason))
        await ack()

    async def thank_note(self, body: Payload, client: AsyncWebClient) -> None:
        """After the 👎 modal was sent: an ephemeral thank-you where the answer is (best effort)."""
        view = body.get("view") or {}
        if _submitted(view) == ("", None):
            return  # refused with "please choose or write something": nothing to thank for yet
        try:
            metadata = json.loads(str(view.get("private_metadata") or "{}"))
        except ValueError:
            return
        user = (body.get("user") or {}).get("id")
        channel = metadata.get("channel") if isinstance(metadata, dict) else None
        if not channel or not user:
            return
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=thanks_text("down"),
                                            thread_ts=metadata.get("thread_ts"))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.info("could not thank for the note: %s", type(exc).__name__)

    async def on_ask(self, ack: AsyncAck, body: Payload, action: Payload) -> None:
        """A related-question or candidate button: the question is asked in the answer's thread."""
        text = slack_to_plain(str(action.get("value") or ""))
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        message = body.get("message") or {}
        key = f"ask:{channel}:{action.get('action_ts') or uuid.uuid4().hex}:{user}"
        if text and channel and message.get("ts"):
            reply_ts = message.get("thread_ts") or message.get("ts")
            await self._accept(key, {"kind": "message", "channel": channel, "user": user, "text": text,
                                     "ts": action.get("action_ts"), "thread_ts": reply_ts, "reply_ts": reply_ts,
                                     "dm": False, "show_question": True, "bot_user_id": None})
        elif text and body.get("response_url"):
            # An ephemeral /plan answer has no thread: the answer comes ephemerally as well.
            await self._accept(key, {"kind": "command", "channel": channel, "user": user, "text": text,
                                     "response_url": body["response_url"]})
        await ack()

    async def on_contact(self, ack: AsyncAck) -> None:
        """「市役所に問い合わせる」: acknowledged; the contact follows (lazy `send_contact`)."""
        await ack()

    async def send_contact(self, body: Payload, client: AsyncWebClient) -> None:
        """The contact for the answer's topic, ephemerally to the clicker."""
        action = (body.get("actions") or [{}])[0]
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        if not channel or not user:
            return
        contact = self._contact(str(action.get("value") or ""))
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=defuse(contact.card()),
                                            thread_ts=(body.get("message") or {}).get("thread_ts"))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.info("could not send the contact: %s", type(exc).__name__)

    def _contact(self, node_id: str) -> Contact:
        assistant = self.services.assistant
        settings = self.services.settings
        book = assistant.contacts if assistant else ContactBook.load(settings.contacts_file, settings.city_contact)
        return (book.specific(node_id) if node_id else None) or book.fallback

    async def on_share(self, ack: AsyncAck, body: Payload, action: Payload) -> None:
        """"Share in channel" on an ephemeral /plan answer: queued for the worker to post."""
        answer_id = parse_answer_id(action.get("value"))
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        if answer_id is not None and channel and user:
            await self._accept(f"share:{answer_id}:{channel}", {
                "kind": "share", "answer_id": answer_id, "channel": channel, "user": user,
                "response_url": body.get("response_url")})
        await ack()


def _submitted(view: Payload) -> tuple[str, str | None]:
    """The 👎 modal's note (masked, "" when empty) and reason code (None when none or not one of ours)."""
    values = (view.get("state") or {}).get("values") or {}
    note = mask_personal_data(str(((values.get(NOTE_BLOCK) or {}).get(NOTE_ACTION) or {}).get("value") or "").strip())
    selected = ((values.get(REASON_BLOCK) or {}).get(REASON_ACTION) or {}).get("selected_option") or {}
    reason = selected.get("value") if isinstance(selected, dict) else None
    return note, reason if reason in FEEDBACK_REASONS else None


def build_bolt_app(services: Services, client: AsyncWebClient, identity: SlackIdentity,
                   executor: Executor | None = None) -> AsyncApp:
    """The AsyncApp with every listener; signature and timestamp checks stay on (bolt's defaults). Requests
    are authorized by `identity` (one shared auth.test; see adapters/slack/identity.py)."""
    settings = services.settings
    app = AsyncApp(signing_secret=settings.slack_signing_secret.get_secret_value(), client=client,
                   authorize=identity.authorize_function(), process_before_response=True,
                   logger=logging.getLogger("planbot.slack.bolt"))
    listeners = SlackListeners(services, executor)
    app.event("app_mention")(listeners.on_mention)
    app.event("message")(listeners.on_message)
    app.command("/plan")(listeners.on_command)
    app.action(ACTION_FEEDBACK_UP)(ack=listeners.on_feedback, lazy=[listeners.thank])
    app.action(ACTION_FEEDBACK_DOWN)(ack=listeners.on_feedback, lazy=[listeners.open_note_modal])
    app.action(ACTION_SHARE)(listeners.on_share)
    app.view(FEEDBACK_VIEW)(ack=listeners.on_note, lazy=[listeners.thank_note])
    app.action(re.compile(f"^{ACTION_ASK}_"))(listeners.on_ask)
    app.action(ACTION_CONTACT)(ack=listeners.on_contact, lazy=[listeners.send_contact])
    return app
