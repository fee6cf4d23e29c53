"""The answerer every channel calls: rate limit, reviewer-approved answers, the core, the answer log."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from bot.compose import citations_for
from bot.contacts import Contact, ContactBook
from bot.decide import Decision
from bot.intents import clean_question, detect_language
from bot.service import PlanBot
from bot.store.answer_log import AnswerLog
from bot.store.approved import ApprovedAnswers
from bot.store.privacy import hash_user
from bot.store.ratelimit import RateLimiter
from bot.types import Answer, Question

log = logging.getLogger(__name__)
#: What the core gives a question about the plan (as opposed to a refusal or a greeting).
QUESTION_KINDS = frozenset({"plan", "structure", "clarify", "not_in_plan"})
#: … of which these answer it outright (after a greeting, a clarify is more likely small talk).
ANSWERED_KINDS = QUESTION_KINDS - {"clarify"}

RATE_LIMITED_JA = "短い時間にたくさんのご質問をいただきました。1分ほどおいてから、もう一度お送りください。"
RATE_LIMITED_EN = "You have sent many questions in a short time. Please wait a minute and try again."


@dataclass(frozen=True)
class LoggedAnswer:
    """An answer and the id it was logged under (None when logging failed; the answer still stands)."""

    answer: Answer
    answer_id: int | None
    user_hash: str | None


class Assistant:
    """Question in, logged answer out. Thread-safe; never raises for a user's input."""

    def __init__(self, planbot: PlanBot, answer_log: AnswerLog, limiter: RateLimiter,
                 approved: ApprovedAnswers, contacts: ContactBook | None = None) -> None:
        self.planbot = planbot
        self.answer_log = answer_log
        self.limiter = limiter
        self.approved = approved
        self.salt = planbot.settings.user_hash_salt
        settings = planbot.settings
        self.contacts = contacts or ContactBook.load(settings.contacts_file, settings.city_contact)

    def contact_for(self, answer: Answer) -> Contact:
        """Who to ask about this answer: the most specific contact of its citations (or candidates)."""
        return contact_for(self.contacts, answer)

    def user_hash(self, question: Question) -> str | None:
        """The salted hash of the asker's platform id."""
        return hash_user(self.salt, question.channel, question.user_id)

    def answer(self, question: Question, event_key: str | None = None, about: str | None = None) -> LoggedAnswer:
        """Answer and log one question. `about`: a topic button named this plan node; the answer is about it."""
        user_hash = self.user_hash(question)
        answer = self._with_contact(self._answer(question, user_hash, about))
        answer_id = self.answer_log.record(question, answer, user_hash, event_key)
        return LoggedAnswer(answer, answer_id, user_hash)

    def _answer(self, question: Question, user_hash: str | None, about: str | None = None) -> Answer:
        started = time.perf_counter()
        language = detect_language(question.text or "")
        try:
            if not self.limiter.allow(user_hash):
                text = RATE_LIMITED_EN if language == "en" else RATE_LIMITED_JA
                return Answer(question.text, text, False, kind="invalid_input", lead=text)
            approved = self._approved(question)
        except Exception:
            # The limiter and approved answers are safeguards around the core: if the database is
            # down, citizens still get the plan's answer rather than an apology.
            log.exception("rate limit / approved answers unavailable; answering from the core")
            approved = None
        if approved is not None:
            return replace(approved, latency_ms=(time.perf_counter() - started) * 1000)
        if about is not None and about in self.planbot.tree:
            return replace(self._about(question, about), latency_ms=(time.perf_counter() - started) * 1000)
        rest = self.planbot.compose.phrases.opening(question.text or "")
        if rest is not None:
            # 「こんにちは。冬の除雪は…」: the greeting is manners; what follows it is the question, if it is one.
            answer = self.planbot.ask(replace(question, text=rest))
            if answer.kind in ANSWERED_KINDS:
                return replace(answer, question=question.text)
        return self.planbot.ask(question)

    def _about(self, question: Question, node_id: str) -> Answer:
        """The answer about one node, as a topic button asks for it: read and retrieved like the question (so the
        node's 基本計画 passages are at hand), but the node is decided by the button, not guessed from words."""
        planbot = self.planbot
        understood = planbot.understand(question)
        retrieval = planbot.retrieve(understood)
        decision = Decision("navigate", (node_id,), "a topic button named this node")
        try:
            answer = planbot.compose(understood, retrieval, decision)
        except Exception:
            log.exception("answering a topic button failed; asking the core instead")
            return planbot.ask(question)
        return replace(answer, plan_version=retrieval.plan_version if retrieval is not None else None)

    def _with_contact(self, answer: Answer) -> Answer:
        # The core names the city-wide contact; the contacts file may know the department.
        return with_contact(self.contacts, answer)

    def _approved(self, question: Question) -> Answer | None:
        cleaned = clean_question(question.text or "", self.planbot.settings.max_question_chars)
        if cleaned.problem:
            return None
        vector = self.planbot.embedder.embed_query(cleaned.text)
        match = self.approved.match([float(x) for x in vector])
        if match is None:
            return None
        tree = self.planbot.tree
        cited = [node_id for node_id in match.citations if node_id in tree]
        # The channels say it was reviewed (scope "reviewed"); the text is the reviewer's own.
        return Answer(question.text, match.answer_text, True, citations_for(tree, cited),
                      kind="approved", mode="approved", approved_answer_id=match.id, lead=match.answer_text,
                      scope="reviewed")


def contact_for(book: ContactBook, answer: Answer) -> Contact:
    """The most specific contact of an answer's citations (or candidates), else the city-wide one."""
    return book.for_nodes([c.id for c in (*answer.citations, *answer.candidates)])


def with_contact(book: ContactBook, answer: Answer) -> Answer:
    """The answer naming its most specific contact (channels render it; the text never holds it)."""
    return replace(answer, contact=contact_for(book, answer))
