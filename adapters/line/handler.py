"""Answers one stored LINE event (runs in the inbox worker's thread): decide, answer, reply or push."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from datetime import timedelta
from functools import cached_property
from typing import Any

from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    GroupSource,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    Source,
    TextMessageContent,
    UserSource,
)

from adapters.line import postback
from adapters.line.bubbles import render_answer
from adapters.line.client import LineClient, rendered_payload
from adapters.line.conversation import OPTIONS_MINUTES, pick_number, question_for, today_in_japan
from adapters.line.render import LineReply, QuickButton, ask_why, greeting, strip_mentions, text_please, write_button
from adapters.services import Services
from bot.assistant import QUESTION_KINDS, Assistant
from bot.errors import DeliveryError, StorageError
from bot.intents import Language, detect_language
from bot.store.conversation import ConversationStore, Option
from bot.store.inbox import InboxItem
from bot.store.privacy import hash_user, mask_personal_data
from bot.types import Answer, Question

log = logging.getLogger(__name__)
#: A reply token lives about a minute; past this age we push instead of risking an expired token.
REPLY_WINDOW_S = 50.0
RETRY_KEY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "planbot:line:push")
PENDING_CACHE_SIZE = 1000


def push_retry_key(event_key: str) -> str:
    """The X-Line-Retry-Key for an event: the same UUID on every attempt, so LINE delivers it once."""
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, event_key))


def push_target(source: Source | None) -> str | None:
    """Where a push for this event goes: the group, the room, or the user."""
    if isinstance(source, GroupSource):
        return str(source.group_id)
    if isinstance(source, RoomSource):
        return str(source.room_id)
    if isinstance(source, UserSource):
        return str(source.user_id)
    return None


def mentioned_text(content: TextMessageContent) -> str | None:
    """The text addressed to the bot in a group (its own mention removed), or None if not mentioned."""
    mention = content.mention
    spans = [(m.index, m.length) for m in (mention.mentionees if mention else []) if getattr(m, "is_self", False)]
    return strip_mentions(content.text, spans) if spans else None


class LineEventHandler:
    """The `services.handlers["line"]` callable."""

    def __init__(self, services: Services, client: LineClient) -> None:
        self.services = services
        self.settings = services.settings
        self.client = client
        # Rendered answers awaiting a successful delivery: a retried event is not answered (and logged,
        # and rate-limited) twice in this process.
        self._pending: OrderedDict[str, LineReply] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, item: InboxItem) -> None:
        """Handle one event; raises DeliveryError when LINE did not take the answer."""
        raw = item.payload
        if raw.get("mode") == "standby":
            return  # another channel module holds this chat; a standby bot must stay silent
        try:
            event = Event.from_dict(with_quote_token(raw))
        except ValueError:
            log.info("ignoring a LINE event of unknown shape (type %s)", raw.get("type"))
            return
        if event is None:
            return
        pending = self._take_pending(item.event_key)
        reply = pending or self.respond(event, item.event_key)
        if reply is None:
            return
        try:
            # Retried with nothing pending here: an earlier attempt may have died after LINE took the reply.
            self.deliver(event, item.event_key, reply, resumed=pending is None and item.attempts > 1)
        except DeliveryError:
            self._keep_pending(item.event_key, reply)
            raise

    def respond(self, event: Event, event_key: str) -> LineReply | None:
        """What to send for this event, or None when the bot stays silent."""
        if isinstance(event, FollowEvent):
            return greeting(self.settings.city_contact)
        if isinstance(event, PostbackEvent):
            return self.on_postback(event, event_key)
        if not isinstance(event, MessageEvent):
            return None
        content = event.message
        if isinstance(event.source, GroupSource | RoomSource):
            text = mentioned_text(content) if isinstance(content, TextMessageContent) else None
            if text is None:
                return None
            return self._answer(text, event.source.user_id, event_key)
        if not isinstance(content, TextMessageContent):
            return text_please()
        user_id = event.source.user_id if isinstance(event.source, UserSource) else None
        if user_id:
            self.client.show_loading(user_id)
        return self._answer(content.text, user_id, event_key)

    def _assistant(self) -> Assistant:
        assistant = self.services.assistant
        if assistant is None:
            raise DeliveryError("the core is not loaded yet", retryable=True)
        return assistant

    def _user_hash(self, user_id: str | None) -> str | None:
        return hash_user(self.settings.user_hash_salt, "line", user_id)

    @cached_property
    def conversations(self) -> ConversationStore:
        """What the chat remembers per user: the scope note's day, the last clarify's options."""
        return ConversationStore(self.services.database)

    def _answer(self, text: str, user_id: str | None, event_key: str) -> LineReply:
        """A text message: a number picking a clarify option, the note the user chose to write (answered too
        when it reads as a plan question), or a question."""
        user_hash = self._user_hash(user_id)
        if user_hash is None:
            return self._ask(Question(text, channel="line", user_id=user_id), None, event_key)
        picked = self._picked(user_hash, text)
        if picked is not None:
            return self._ask_about(picked, user_id, user_hash, event_key)
        if self.services.answer_log.take_note(user_hash, event_key, mask_personal_data(text.strip())) is not None:
            return self._after_note(text, user_id, user_hash, event_key)
        return self._ask(Question(text, channel="line", user_id=user_id), user_hash, event_key)

    def _after_note(self, text: str, user_id: str | None, user_hash: str, event_key: str) -> LineReply:
        thanks = postback.THANKS_NOTE[detect_language(text)]
        question = Question(text, channel="line", user_id=user_id)
        if self._assistant().planbot.ask(question).kind not in QUESTION_KINDS:
            return LineReply((thanks,))
        return self._ask(question, user_hash, event_key).with_before(thanks)

    def _ask_about(self, option: Option, user_id: str | None, user_hash: str | None, event_key: str) -> LineReply:
        """A topic button or a number pick: the answer about exactly that node."""
        planbot = self._assistant().planbot
        language: Language = "en" if option.language == "en" else "ja"
        text = question_for(planbot.compose.titles, planbot.tree, option.node_id, language)
        return self._ask(Question(text, channel="line", user_id=user_id), user_hash, event_key, about=option.node_id)

    def _ask(self, question: Question, user_hash: str | None, event_key: str, about: str | None = None
             ) -> LineReply:
        """Answer, log and render one question; remember a clarify's options; the scope note once a day."""
        assistant = self._assistant()
        logged = assistant.answer(question, event_key=event_key, about=about)
        answer = logged.answer
        reply = render_answer(answer, assistant.planbot.compose.titles, logged.answer_id,
                              show_note=self._note_due(user_hash, answer))
        self._remember_options(user_hash, answer)
        if logged.answer_id is not None:
            self.services.answer_log.set_rendered(logged.answer_id, rendered_payload(reply))
        return reply

    def _picked(self, user_hash: str, text: str) -> Option | None:
        """The option a number reply picks from the user's last clarify, or None."""
        number = pick_number(text)
        if number is None:
            return None
        try:
            options = self.conversations.options(user_hash)
        except StorageError:
            log.exception("clarify options unavailable; the message is answered as a question")
            return None
        if not 1 <= number <= len(options):
            return None
        chosen = options[number - 1]
        return chosen if chosen.node_id in self._assistant().planbot.tree else None

    def _note_due(self, user_hash: str | None, answer: Answer) -> bool:
        if answer.scope != "titles_only" or answer.kind != "plan":
            return False
        if user_hash is None:
            return True
        try:
            return self.conversations.claim_scope_note(user_hash, today_in_japan())
        except StorageError:
            log.exception("scope-note state unavailable; showing the note")
            return True

    def _remember_options(self, user_hash: str | None, answer: Answer) -> None:
        if user_hash is None:
            return
        language = detect_language(answer.question or answer.text)
        options = [Option(c.id, c.title, language) for c in answer.candidates[:3]] if answer.kind == "clarify" else []
        try:
            self.conversations.remember_options(user_hash, options, OPTIONS_MINUTES)
        except StorageError:
            log.exception("could not keep the clarify options")

    def on_postback(self, event: PostbackEvent, event_key: str) -> LineReply | None:
        """👍/👎, why 👎, "write a note", a topic button and 「市役所に問い合わせる」."""
        action = postback.parse_postback(str(event.postback.data or ""))
        user_id = getattr(event.source, "user_id", None)
        if isinstance(action, postback.ContactRequest):
            contacts = self._assistant().contacts
            found = contacts.specific(action.node_id) if action.node_id else None
            return LineReply(((found or contacts.fallback).card(),))
        if isinstance(action, postback.Ask):
            if action.node_id not in self._assistant().planbot.tree:
                return None
            return self._ask_about(Option(action.node_id, "", action.language), user_id, self._user_hash(user_id),
                                   event_key)
        user_hash = self._user_hash(user_id)
        if action is None or user_hash is None:
            log.info("ignoring a LINE postback the bot did not send")
            return None
        return self._feedback(action, user_hash)

    def _feedback(self, action: postback.Feedback | postback.Reason | postback.WriteNote, user_hash: str) -> LineReply:
        """Store a rating step. A note window opens only when the citizen chose to write one."""
        log_, language = self.services.answer_log, action.language
        if isinstance(action, postback.Feedback):
            if not log_.set_feedback(action.answer_id, user_hash, action.value):
                return LineReply((postback.EXPIRED[language],))
            if action.value == "up":
                return LineReply((postback.THANKS_UP[language],))
            return ask_why(action.answer_id, language)
        if isinstance(action, postback.Reason):
            if not log_.set_feedback(action.answer_id, user_hash, "down", reason=action.reason):
                return LineReply((postback.EXPIRED[language],))
            buttons: tuple[QuickButton, ...] = (write_button(action.answer_id, language),)
            return LineReply((postback.THANKS_REASON[language],), buttons)
        window = timedelta(minutes=self.settings.feedback_note_minutes)
        if not log_.set_feedback(action.answer_id, user_hash, "down", note_window=window):
            return LineReply((postback.EXPIRED[language],))
        minutes = f"{self.settings.feedback_note_minutes:g}"
        return LineReply((postback.ASK_NOTE[language].format(minutes=minutes),))

    def deliver(self, event: Event, event_key: str, reply: LineReply, resumed: bool = False) -> None:
        """Reply while the token is fresh; otherwise, or if the reply fails, push with a retry key.

        `resumed`: a retry whose earlier attempt's outcome is unknown. If LINE then says the reply token was
        already used, that attempt delivered the answer, and pushing it again would send it twice.
        """
        token = getattr(event, "reply_token", None)
        age_s = time.time() - int(event.timestamp) / 1000
        if token and age_s < REPLY_WINDOW_S:
            try:
                self.client.reply(token, reply)
                return
            except DeliveryError as exc:
                if resumed and _token_used(exc):
                    log.info("LINE reply token of %s already used: answered by an earlier attempt", event_key)
                    return
                if not self.settings.line_push_fallback:
                    raise
                log.warning("LINE reply failed (%s); pushing instead", exc)
        elif not self.settings.line_push_fallback:
            raise DeliveryError(f"reply token expired ({age_s:.0f} s) and push fallback is off", retryable=False)
        target = push_target(event.source)
        if target is None:
            raise DeliveryError("event has no user, group or room to push to", retryable=False)
        self.client.push(target, reply, push_retry_key(event_key))

    def _take_pending(self, event_key: str) -> LineReply | None:
        with self._lock:
            return self._pending.pop(event_key, None)

    def _keep_pending(self, event_key: str, reply: LineReply) -> None:
        with self._lock:
            self._pending[event_key] = reply
            while len(self._pending) > PENDING_CACHE_SIZE:
                self._pending.popitem(last=False)


def with_quote_token(raw: dict[str, Any]) -> dict[str, Any]:
    """The event with a placeholder `quoteToken` on a text message that lacks one (older webhooks, tests,
    LINE's own console): the SDK requires it, and such a question deserves an answer too."""
    message = raw.get("message")
    if raw.get("type") != "message" or not isinstance(message, dict) or message.get("type") != "text" \
            or message.get("quoteToken"):
        return raw
    return {**raw, "message": {**message, "quoteToken": ""}}


def _token_used(exc: DeliveryError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "status", None) == 400 and "Invalid reply token" in str(getattr(cause, "body", ""))
