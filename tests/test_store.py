"""The answer log, inbox, rate limit and approved answers on real SQLite and real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from bot.store.answer_log import AnswerLog
from bot.store.approved import ApprovedAnswers
from bot.store.db import Database
from bot.store.inbox import EventInbox
from bot.store.models import AnswerRecord, FeedbackRecord, InboxEvent, utcnow
from bot.store.privacy import hash_user
from bot.store.ratelimit import RateLimiter
from bot.store.sealing import PayloadSealer
from bot.types import Answer, Citation, Question, RetrievedNode

SEALER = PayloadSealer(SecretStr("salt-for-tests-0123456789"))


@pytest.fixture()
def database(database_url: str) -> Iterator[Database]:
    """A migrated, empty database."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


def _answer(text: str = "答え") -> Answer:
    return Answer("q", text, True, (Citation("3.2.2", "まちをデザインする › 政策2 … › 施策② …"),),
                  retrieved=(RetrievedNode("3.2.2", 0.03, 0.9, 7.5),), latency_ms=12.3)


def test_migrating_twice_is_harmless(database: Database) -> None:
    database.migrate()
    with database.session() as session:
        assert session.scalars(select(AnswerRecord)).all() == []


def test_answer_log_stores_masked_question_and_hash_only(database: Database) -> None:
    log = AnswerLog(database)
    user = hash_user(SecretStr("salt-for-tests-0123456789"), "line", "Uabcdef0123456789")
    answer_id = log.record(Question("電話 090-1111-2222 まで。雪かき", channel="line"), _answer(), user, "ev-1")
    assert answer_id is not None
    row = log.get(answer_id)
    assert row is not None
    assert row.question == "電話 [電話番号] まで。雪かき"
    assert row.user_hash == user and user is not None and "Uabcdef" not in user
    assert row.citations == [{"id": "3.2.2", "path": "まちをデザインする › 政策2 … › 施策② …"}]
    assert row.retrieval[0]["id"] == "3.2.2" and row.latency_ms == pytest.approx(12.3)
    assert row.created_at.tzinfo is not None


def test_latest_feedback_per_user_wins(database: Database) -> None:
    log = AnswerLog(database)
    answer_id = log.record(Question("雪"), _answer(), None)
    assert answer_id is not None
    assert log.set_feedback(answer_id, "u1", "up")
    assert log.set_feedback(answer_id, "u1", "down")
    assert log.set_feedback(answer_id, "u2", "down")
    assert log.add_feedback_note(answer_id, "u2", "除雪の時期が書いていない")
    row = log.get(answer_id)
    assert row is not None and (row.feedback_up, row.feedback_down, row.feedback) == (0, 2, "down")
    with database.session() as session:
        notes = session.scalars(select(FeedbackRecord.note).where(FeedbackRecord.user_hash == "u2")).all()
    assert notes == ["除雪の時期が書いていない"]
    assert log.set_feedback(999_999, "u1", "up") is False
    with pytest.raises(ValueError):
        log.set_feedback(answer_id, "u1", "meh")


def test_inbox_dedupes_and_leases(database: Database) -> None:
    inbox = EventInbox(database, SEALER, lease_seconds=60, max_attempts=2)
    assert inbox.accept("line", "ev-1", {"text": "a"}) is True
    assert inbox.accept("line", "ev-1", {"text": "a", "isRedelivery": True}) is False
    assert inbox.accept("slack", "ev-1", {"text": "same key, other source"}) is True
    first = inbox.claim("worker-a", limit=10)
    assert [item.event_key for item in first] == ["ev-1", "ev-1"]
    assert inbox.claim("worker-b", limit=10) == []  # leased to worker-a
    # worker-a "died": its lease runs out (the clock moved on, set here rather than waited for) and
    # worker-b takes over.
    with database.session() as session:
        session.execute(update(InboxEvent).values(lease_until=utcnow() - timedelta(seconds=1)))
    taken = inbox.claim("worker-b", limit=10)
    assert len(taken) == 2 and all(item.attempts == 2 for item in taken)
    inbox.complete(first[0], "worker-a")  # stale holder: ignored
    assert inbox.counts() == {"processing": 2}
    for item in taken:
        inbox.complete(item, "worker-b")
    assert inbox.counts() == {"done": 2}


def test_inbox_retries_with_backoff_then_fails_for_good(database: Database) -> None:
    inbox = EventInbox(database, SEALER, lease_seconds=30, max_attempts=2)
    inbox.accept("slack", "ev-9", {})
    (item,) = inbox.claim("w")
    assert inbox.fail(item, "w", "HTTP 503", retryable=True) is True
    assert inbox.claim("w") == []  # backoff not yet over
    with database.session() as session:
        event = session.scalars(select(InboxEvent)).one()
        event.not_before = utcnow() - timedelta(seconds=1)
    (again,) = inbox.claim("w")
    assert inbox.fail(again, "w", "HTTP 503", retryable=True) is False  # out of attempts
    assert inbox.counts() == {"failed": 1}


def test_rate_limit_counts_per_user(database: Database) -> None:
    limiter = RateLimiter(database, per_minute=3)
    assert [limiter.allow("u1") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("u2") is True
    assert limiter.allow(None) is True


def test_approved_answer_matches_close_questions_until_retired(database: Database) -> None:
    approved = ApprovedAnswers(database, min_similarity=0.95)
    base = np.zeros(8, dtype=np.float32)
    base[0] = 1.0
    approved_id = approved.add("雪かきは？", base.tolist(), "除雪は施策②です。", ["3.2.2"], "kato")
    near = base.copy()
    near[1] = 0.1
    far = np.zeros(8, dtype=np.float32)
    far[2] = 1.0
    match = approved.match(near.tolist())
    assert match is not None and match.id == approved_id and match.citations == ("3.2.2",)
    assert approved.match(far.tolist()) is None
    assert approved.retire(approved_id) is True
    assert approved.match(near.tolist()) is None
    assert approved.retire(approved_id) is False


def test_purge_removes_only_old_rows(database: Database) -> None:
    log = AnswerLog(database)
    old_id = log.record(Question("古い"), _answer(), None)
    new_id = log.record(Question("新しい"), _answer(), None)
    assert old_id is not None and new_id is not None
    log.set_feedback(old_id, "u", "down")
    with database.session() as session:
        row = session.get(AnswerRecord, old_id)
        assert row is not None
        row.created_at = utcnow() - timedelta(days=400)
    assert log.purge_older_than(365) == 1
    assert log.get(old_id) is None and log.get(new_id) is not None


def test_logging_failure_does_not_raise(tmp_path: object) -> None:
    database = Database("sqlite:////nonexistent-dir/planbot.sqlite3")
    assert AnswerLog(database).record(Question("雪"), _answer(), None) is None


def test_inbox_payloads_are_sealed_at_rest(database: Database) -> None:
    inbox = EventInbox(database, SEALER)
    payload = {"type": "message", "source": {"userId": "U-raw-secret-id"}, "text": "電話 090-1234-5678"}
    inbox.accept("line", "ev-s", payload)
    with database.session() as session:
        stored = session.scalars(select(InboxEvent.payload)).one()
    assert "U-raw-secret-id" not in str(stored) and "090-1234-5678" not in str(stored)
    assert stored["type"] == "message"
    assert SEALER.open(stored) == payload
    (item,) = inbox.claim("w")
    assert item.payload == payload


def test_a_payload_that_cannot_be_opened_is_failed_not_lost(database: Database) -> None:
    EventInbox(database, PayloadSealer(SecretStr("another-salt-0123456789"))).accept("line", "ev-x", {"a": 1})
    inbox = EventInbox(database, SEALER)
    assert inbox.claim("w") == []
    assert inbox.counts() == {"failed": 1}
