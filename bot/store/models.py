"""The tables. Times are UTC; user ids are only ever stored as salted hashes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite keeps no zone), always returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every planbot table."""


class AnswerRecord(Base):
    """One question and the answer the user saw, with everything a reviewer needs."""

    __tablename__ = "answer_log"
    __table_args__ = (
        Index("ix_answer_log_created_at", "created_at"),
        Index("ix_answer_log_channel_created", "channel", "created_at"),
        Index("ix_answer_log_review_status", "review_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    user_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    event_key: Mapped[str | None] = mapped_column(String(200), index=True)
    question: Mapped[str] = mapped_column(Text)  # personal data masked
    answer_text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    answerable: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(20), default="extractive")
    model: Mapped[str | None] = mapped_column(String(120))
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    retrieval: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fallback_reason: Mapped[str | None] = mapped_column(String(40))
    token_usage: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    approved_answer_id: Mapped[int | None] = mapped_column(Integer)
    # The 基本計画 version the answer was made from (「v0002 基本計画2026」); None: the 体系図 alone.
    plan_version: Mapped[str | None] = mapped_column(String(200))
    feedback: Mapped[str | None] = mapped_column(String(8))  # latest of "up"/"down" over all users
    feedback_down: Mapped[int] = mapped_column(Integer, default=0)
    feedback_up: Mapped[int] = mapped_column(Integer, default=0)
    review_status: Mapped[str] = mapped_column(String(16), default="unreviewed")  # reviewed / flagged
    reviewer: Mapped[str | None] = mapped_column(String(80))
    review_note: Mapped[str | None] = mapped_column(Text)
    corrected_answer: Mapped[str | None] = mapped_column(Text)
    corrected_citations: Mapped[list[str]] = mapped_column(JSON, default=list)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the channel sent, exactly as rendered: {"line": [messages…]} or {"slack": [blocks…]}.
    rendered: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The core's reason for answering, clarifying or refusing, and the topics it offered instead.
    reason: Mapped[str | None] = mapped_column(String(200))
    candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class FeedbackRecord(Base):
    """👍/👎 on an answer, one row per (answer, user): the latest click wins."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("answer_id", "user_hash", name="uq_feedback_answer_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer_log.id", ondelete="CASCADE"), index=True)
    user_hash: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Why 👎 (LINE's reason buttons): wrong_measure / not_enough / unclear / other.
    reason: Mapped[str | None] = mapped_column(String(20))
    # Until then, the user's next free-text message is the note on this 👎 (LINE), not a question.
    note_open_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The webhook event whose text became the note: a redelivered event is recognised, not re-asked.
    note_event_key: Mapped[str | None] = mapped_column(String(200), index=True)


class ReviewAudit(Base):
    """One reviewer change on a logged answer: status, note, correction or approval, with who and when."""

    __tablename__ = "review_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer_log.id", ondelete="CASCADE"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewer: Mapped[str] = mapped_column(String(80))
    field: Mapped[str] = mapped_column(String(20))  # status / note / correction / approved
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


class InboxEvent(Base):
    """A webhook event we acknowledged. Unique per (source, event_key): redeliveries are dropped here."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("source", "event_key", name="uq_inbox_source_key"),
        Index("ix_inbox_status_lease", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # processing / done / failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    # How far the answer got: None (nothing sent), "replying" (a reply call may be out: written before it),
    # "reply_failed" (the platform answered that the reply failed), "sent", "unknown" (see bot/store/inbox.py).
    delivery: Mapped[str | None] = mapped_column(String(16))


class Reviewer(Base):
    """A communications-team account for the review page (argon2 password hash)."""

    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewSessionRecord(Base):
    """A signed-in review-page session. The cookie carries only its signed id; this row is what makes it valid,
    so deleting it (sign-out, a disabled reviewer, a new password) ends the session everywhere at once."""

    __tablename__ = "review_sessions"

    # SHA-256 of the session id: the database never holds an id a copied table could replay.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ApprovedAnswerRecord(Base):
    """A reviewer's corrected answer, reused when a new question closely matches its question."""

    __tablename__ = "approved_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    question_embedding: Mapped[list[float]] = mapped_column(JSON)
    answer_text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_answer_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RateWindow(Base):
    """Questions per user per minute, counted in the database so every worker sees the same count."""

    __tablename__ = "rate_windows"
    __table_args__ = (UniqueConstraint("user_hash", "window_start", name="uq_rate_user_window"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_hash: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=0)


class ConversationState(Base):
    """What a chat remembers about one user between messages (LINE): one row per user hash."""

    __tablename__ = "conversation_state"

    user_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The day (Japan time, YYYY-MM-DD) the 体系図 scope note was last shown: at most once a day.
    scope_note_day: Mapped[str | None] = mapped_column(String(10))
    # The last clarify's options ([{"id", "label", "lang"}…]) and until when a number reply picks one.
    options: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    options_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
