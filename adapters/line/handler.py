"""Answers one stored LINE event (runs in the inbox worker's thread): decide, answer, reply or push.

Delivery is at most once. A reply cannot be repeated safely (it has no retry key), so the event is marked
"replying" in the inbox, durably, before the reply call. A worker that takes over an event whose worker died
then knows a reply may be out: it sends the reply again with the same token while the token can still tell
— LINE takes an unused token (the first call never arrived) and refuses a used one with "Invalid reply
token" (the first call delivered it) — and never pushes unless LINE had answered that the reply failed
("reply_failed"). When the token can no longer tell (the event is past the reply window), the outcome is
unknown and nothing more is sent: the user may have the answer or may have to ask again, never two
answers; the event is recorded as "unknown" and a warning is logged. Pushes carry a retry key, so LINE
itself drops a repeated push (409).

A first reply is tried only while a takeover could still check it: the event's age plus the lease plus
`TAKEOVER_S` within `REPLY_WINDOW_S`; older events are pushed.
"""

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
from bot.store.inbox import REPLY_FAILED, REPLYING, SENT, UNKNOWN, InboxItem
from bot.store.privacy import hash_user, mask_personal_data
from bot.types import Answer, Question

log = logging.getLogger(__name__)
#: A reply token lives about a minute; past this age a reply is not tried (nor an earlier one checked).
REPLY_WINDOW_S = 50.0
#: What a worker taking over a dead worker's event needs beyond the lease (its poll, the claim, answering
#: again) before it can check an earlier reply.
TAKEOVER_S = 5.0
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
        lease_s = services.inbox.lease.total_seconds()
        if lease_s + TAKEOVER_S >= REPLY_WINDOW_S:
            log.warning("PLANBOT_INBOX_LEASE_SECONDS=%g leaves no time to check a reply after a takeover: every "
                        "LINE answer is pushed (metered); keep it under %g", lease_s, REPLY_WINDOW_S - TAKEOVER_S)

    def __call__(self, item: InboxItem) -> str | None:
        """Handle one event; the delivery outcome ("sent", "unknown") or None when nothing was to be sent.
        Raises DeliveryError when LINE did not take the answer."""
        raw = item.payload
        if raw.get("mode") == "standby":
            return None  # another channel module holds this chat; a standby bot must stay silent
        if item.delivery in (SENT, UNKNOWN):
            return item.delivery  # an earlier attempt finished delivering; only its bookkeeping was cut off
        try:
            event = Event.from_dict(with_quote_token(raw))
        except ValueError:
            log.info("ignoring a LINE event of unknown shape (type %s)", raw.get("type"))
            return None
        if event is None:
            return None
        reply = self._take_pending(item.event_key) or self.respond(event, item.event_key)
        if reply is None:
            return None
        try:
            return self.deliver(event, item, reply)
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

    def deliver(self, event: Event, item: InboxItem, reply: LineReply) -> str | None:
        """Reply while a takeover could still check the reply, else push with a retry key; resume an event
        whose earlier attempt stopped mid-reply without sending twice (see the module's docstring).

        "sent", "unknown", or None when another worker took the event over (this one sends nothing).
        """
        token = getattr(event, "reply_token", None)
        age_s = time.time() - int(event.timestamp) / 1000
        if item.delivery == REPLYING:
            return self._check_reply(item, token, age_s, reply)
        lease_s = self.services.inbox.lease.total_seconds()
        if item.delivery != REPLY_FAILED and token and age_s + lease_s + TAKEOVER_S <= REPLY_WINDOW_S:
            return self._reply(event, item, token, reply)
        if not self.settings.line_push_fallback:
            # Replying is the only way to answer: while the token lives (after "reply_failed" it is unused).
            if token and age_s < REPLY_WINDOW_S:
                return self._reply(event, item, token, reply)
            raise DeliveryError(f"no reply possible ({age_s:.0f} s old) and push fallback is off", retryable=False)
        return self._push(event, item, reply)

    def _reply(self, event: Event, item: InboxItem, token: str, reply: LineReply) -> str | None:
        if not self.services.inbox.mark_delivery(item, REPLYING):
            return self._lost(item)
        try:
            self.client.reply(token, reply)
            return SENT
        except DeliveryError as exc:
            if not _line_answered(exc):
                raise  # no answer from LINE (network, timeout): the reply may be out; the retry checks it
            if not self.services.inbox.mark_delivery(item, REPLY_FAILED):
                return self._lost(item)
            if not self.settings.line_push_fallback:
                raise
            log.warning("LINE reply failed (%s); pushing instead", exc)
        return self._push(event, item, reply)

    def _check_reply(self, item: InboxItem, token: str | None, age_s: float, reply: LineReply) -> str:
        """An earlier attempt marked "replying" and stopped: the same token tells whether its reply went out."""
        if not token or age_s >= REPLY_WINDOW_S:
            log.warning("LINE event %s: an earlier reply's outcome is unknown (%.0f s old, the token can no "
                        "longer tell); not sending again", item.event_key, age_s)
            return UNKNOWN
        try:
            self.client.reply(token, reply)
        except DeliveryError as exc:
            if _token_used(exc):
                log.info("LINE reply token of %s already used: answered by an earlier attempt", item.event_key)
                return SENT
            raise  # still unknown; tried again (while the token can tell)
        return SENT

    def _push(self, event: Event, item: InboxItem, reply: LineReply) -> str:
        target = push_target(event.source)
        if target is None:
            raise DeliveryError("event has no user, group or room to push to", retryable=False)
        self.client.push(target, reply, push_retry_key(item.event_key))
        return SENT

    @staticmethod
    def _lost(item: InboxItem) -> None:
        log.warning("LINE event %s was taken over by another worker; this one sends nothing", item.event_key)
        return None

    def _take_pending(self, event_key: str) -> LineReply | None:
        with self._lock:
            return self._pending.pop(event_key, None)

    def _keep_pending(self, event_key: str, reply: LineReply) -> None:
        with self._lock:
            self._pending[event_key] = reply
            while len(self._pending) > PENDING_CACHE_SIZE:
                self._pending.popitem(last=False)


def _line_answered(exc: DeliveryError) -> bool:
    """LINE answered with an error status (the call was refused), as opposed to no answer at all."""
    return getattr(exc.__cause__, "status", None) is not None


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
