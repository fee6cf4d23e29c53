"""The answer log: every question and answer from every channel, and the feedback on it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.errors import StorageError
from bot.store.db import Database
from bot.store.models import AnswerRecord, FeedbackRecord, InboxEvent, ReviewAudit, utcnow
from bot.store.privacy import mask_personal_data
from bot.types import Answer, Question

log = logging.getLogger(__name__)
FEEDBACK_VALUES = frozenset({"up", "down"})
#: Why an answer got 👎 (LINE's reason buttons): the stored code and what users and reviewers read.
FEEDBACK_REASONS = {"wrong_measure": "違う施策", "not_enough": "情報が足りない", "unclear": "分かりにくい",
                    "other": "その他"}


class AnswerLog:
    """Writes answers and feedback; `record` never raises, so logging can't break an answer."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def record(self, question: Question, answer: Answer, user_hash: str | None,
               event_key: str | None = None) -> int | None:
        """Store one answer; returns its id, or None when the database failed (logged, not raised).

        With an `event_key`, at most one row per (channel, event): a retried event returns the first row's id.
        """
        row = AnswerRecord(
            channel=question.channel,
            user_hash=user_hash,
            event_key=event_key,
            question=mask_personal_data(question.text or "")[:4000],
            answer_text=answer.text,
            citations=[c.public() for c in answer.citations],
            answerable=answer.answerable,
            kind=answer.kind,
            mode=answer.mode,
            model=answer.model,
            latency_ms=round(answer.latency_ms, 2),
            retrieval=[{"id": h.id, "score": round(h.score, 5), "dense": round(h.dense, 4),
                        "lexical": round(h.lexical, 3)} for h in answer.retrieved[:10]],
            fallback_reason=answer.fallback_reason,
            token_usage=dict(answer.token_usage),
            approved_answer_id=answer.approved_answer_id,
            reason=answer.reason[:200] or None,
            candidates=[c.public() for c in answer.candidates],
            plan_version=answer.plan_version[:200] if answer.plan_version else None,
        )
        try:
            with self.database.session() as session:
                if event_key is not None:
                    # A webhook event retried after its worker died (kill -9) keeps its first row.
                    earlier = session.scalars(select(AnswerRecord.id).where(
                        AnswerRecord.channel == question.channel, AnswerRecord.event_key == event_key
                    ).order_by(AnswerRecord.id).limit(1)).first()
                    if earlier is not None:
                        return int(earlier)
                session.add(row)
                session.flush()
                return row.id
        except StorageError:
            log.exception("answer log write failed (channel=%s)", question.channel)
            return None

    def get(self, answer_id: int) -> AnswerRecord | None:
        """One logged answer."""
        with self.database.session() as session:
            return session.get(AnswerRecord, answer_id)

    def set_feedback(self, answer_id: int, user_hash: str, value: str, note: str | None = None,
                     reason: str | None = None, note_window: timedelta | None = None) -> bool:
        """Record 👍/👎 from one user; their latest click replaces the earlier one. False if no such answer.

        `note_window`: for that long, the user's next free-text message is taken as the note (see `take_note`).
        A 👍 closes any open window.
        """
        if value not in FEEDBACK_VALUES:
            raise ValueError(f"feedback must be one of {sorted(FEEDBACK_VALUES)}")
        if reason is not None and reason not in FEEDBACK_REASONS:
            raise ValueError(f"reason must be one of {sorted(FEEDBACK_REASONS)}")
        with self.database.session() as session:
            answer = session.get(AnswerRecord, answer_id, with_for_update=not self.database.is_sqlite)
            if answer is None:
                return False
            existing = session.scalars(select(FeedbackRecord).where(
                FeedbackRecord.answer_id == answer_id, FeedbackRecord.user_hash == user_hash)).first()
            if existing is None:
                existing = FeedbackRecord(answer_id=answer_id, user_hash=user_hash, value=value, note=note)
                session.add(existing)
            existing.value = value
            existing.updated_at = utcnow()
            if note is not None:
                existing.note = note
            if reason is not None:
                existing.reason = reason
            if value == "up":
                existing.reason = None
            existing.note_open_until = utcnow() + note_window if note_window and value == "down" else None
            session.flush()
            _refresh_feedback_totals(session, answer, value)
            return True

    def add_feedback_note(self, answer_id: int, user_hash: str, note: str) -> bool:
        """Attach "what was wrong" text to a user's 👎."""
        return self.set_feedback(answer_id, user_hash, "down", note=note[:2000])

    def take_note(self, user_hash: str, event_key: str, note: str) -> int | None:
        """If this user has a 👎 waiting for its note, store `note` there and return the answer id.

        Idempotent per event: a redelivered message finds the note it already became.
        """
        with self.database.session() as session:
            done = session.scalars(select(FeedbackRecord.answer_id).where(
                FeedbackRecord.user_hash == user_hash, FeedbackRecord.note_event_key == event_key)).first()
            if done is not None:
                return int(done)
            waiting = session.scalars(select(FeedbackRecord).where(
                FeedbackRecord.user_hash == user_hash, FeedbackRecord.value == "down",
                FeedbackRecord.note_open_until > utcnow(),
            ).order_by(FeedbackRecord.updated_at.desc()).limit(1)).first()
            if waiting is None:
                return None
            waiting.note = note[:2000]
            waiting.note_open_until = None
            waiting.note_event_key = event_key
            waiting.updated_at = utcnow()
            return int(waiting.answer_id)

    def set_rendered(self, answer_id: int, rendered: dict[str, Any]) -> None:
        """Keep what the channel sent for this answer, exactly as rendered (best effort, never raises)."""
        try:
            with self.database.session() as session:
                row = session.get(AnswerRecord, answer_id)
                if row is not None:
                    row.rendered = rendered
        except StorageError:
            log.exception("could not store the rendered payload of answer %s", answer_id)

    def purge_older_than(self, days: int, now: datetime | None = None) -> int:
        """Delete answers (with their feedback) and finished inbox events older than `days`."""
        cutoff = (now or utcnow()) - timedelta(days=days)
        with self.database.session() as session:
            old_ids = select(AnswerRecord.id).where(AnswerRecord.created_at < cutoff)
            session.execute(delete(FeedbackRecord).where(FeedbackRecord.answer_id.in_(old_ids)))
            session.execute(delete(ReviewAudit).where(ReviewAudit.answer_id.in_(old_ids)))
            removed = session.execute(delete(AnswerRecord).where(AnswerRecord.created_at < cutoff))
            session.execute(delete(InboxEvent).where(InboxEvent.received_at < cutoff,
                                                     InboxEvent.status.in_(("done", "failed"))))
            return int(getattr(removed, "rowcount", 0) or 0)


def _refresh_feedback_totals(session: Session, answer: AnswerRecord, latest: str) -> None:
    values = session.scalars(select(FeedbackRecord.value).where(FeedbackRecord.answer_id == answer.id)).all()
    answer.feedback_up = sum(1 for v in values if v == "up")
    answer.feedback_down = sum(1 for v in values if v == "down")
    answer.feedback = latest
