"""`planbot reviewer add`, `planbot purge` and `planbot eval export-reviewed` on a real SQLite database."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import main
from bot.settings import Settings
from bot.store.answer_log import AnswerLog
from bot.store.db import open_database
from bot.store.models import AnswerRecord, FeedbackRecord, utcnow
from bot.store.reviewers import ReviewerStore
from bot.types import Answer, Citation, Question
from evals.dataset import load_rows
from knowledge import PLAN_SOURCE
from knowledge.parser import parse_plan


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"PLANBOT_DATA_DIR": str(tmp_path / "data"), "PLANBOT_ENV": "test"}


def _settings(env: dict[str, str]) -> Settings:
    return Settings(PLANBOT_DATA_DIR=env["PLANBOT_DATA_DIR"], PLANBOT_ENV="test")


def _run(env: dict[str, str], args: list[str], stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(main, args, input=stdin, env=env)
    return result.exit_code, result.output


def test_reviewer_add_hashes_the_password_from_stdin(env: dict[str, str]) -> None:
    code, out = _run(env, ["reviewer", "add", "kouhou.sato"], "short\n")
    assert code != 0 and "at least 10 characters" in out
    code, out = _run(env, ["reviewer", "add", "kouhou.sato"], "\n")
    assert code != 0
    code, out = _run(env, ["reviewer", "add", "bad name!"], "a-good-long-password\n")
    assert code != 0 and "letters" in out
    code, out = _run(env, ["reviewer", "add", "kouhou.sato"], "a-good-long-password\n")
    assert code == 0, out
    database = open_database(_settings(env))
    try:
        store = ReviewerStore(database)
        assert store.verify("kouhou.sato", "a-good-long-password")
        assert not store.verify("kouhou.sato", "a-good-long-passwore")
        assert not store.verify("nobody", "a-good-long-password")
        with database.session() as session:
            from sqlalchemy import select

            from bot.store.models import Reviewer

            stored = session.scalars(select(Reviewer.password_hash)).one()
        assert stored.startswith("$argon2id$") and "a-good-long-password" not in stored
    finally:
        database.dispose()
    code, out = _run(env, ["reviewer", "disable", "kouhou.sato"])
    assert code == 0
    database = open_database(_settings(env))
    try:
        assert not ReviewerStore(database).verify("kouhou.sato", "a-good-long-password")
    finally:
        database.dispose()


def _seed(env: dict[str, str], ages_days: list[int]) -> list[int]:
    database = open_database(_settings(env))
    log = AnswerLog(database)
    ids = []
    try:
        for age in ages_days:
            answer_id = log.record(Question(f"{age}日前の質問", channel="line"),
                                   Answer("q", "a", True, (Citation("3.2.2", "x"),)), None)
            assert answer_id is not None
            log.set_feedback(answer_id, "u", "down")
            with database.session() as session:
                row = session.get(AnswerRecord, answer_id)
                assert row is not None
                row.created_at = utcnow() - timedelta(days=age, hours=1)
            ids.append(answer_id)
    finally:
        database.dispose()
    return ids


def test_purge_removes_rows_older_than_the_retention(env: dict[str, str]) -> None:
    _seed(env, [1, 40, 400, 500])
    code, out = _run({**env, "PLANBOT_RETENTION_DAYS": "365"}, ["purge"])
    assert code == 0 and "purged 2 answers older than 365 days" in out
    code, out = _run(env, ["purge", "--days", "30"])
    assert code == 0 and "purged 1 answers older than 30 days" in out
    code, out = _run(env, ["purge", "--days", "0"])
    assert code != 0
    database = open_database(_settings(env))
    try:
        with database.session() as session:
            from sqlalchemy import func, select

            assert session.scalar(select(func.count()).select_from(AnswerRecord)) == 1
            assert session.scalar(select(func.count()).select_from(FeedbackRecord)) == 1
    finally:
        database.dispose()


def test_export_reviewed_merges_corrections_by_id(env: dict[str, str], tmp_path: Path) -> None:
    first, second, untouched = _seed(env, [1, 2, 3])
    database = open_database(_settings(env))
    try:
        with database.session() as session:
            for answer_id, citations in ((first, ["3.2.2", "3.2"]), (second, [])):
                row = session.get(AnswerRecord, answer_id)
                assert row is not None
                row.corrected_answer = "修正した回答"
                row.corrected_citations = citations
    finally:
        database.dispose()
    out_file = tmp_path / "reviewed.jsonl"
    out_file.write_text(json.dumps({"id": "keep-me", "question": "q", "gold": ["1"], "answerable": True},
                                   ensure_ascii=False) + "\n", encoding="utf-8")
    code, out = _run(env, ["eval", "export-reviewed", "--out", str(out_file)])
    assert code == 0 and "2 added, 0 updated" in out, out
    before = out_file.read_bytes()
    code, out = _run(env, ["eval", "export-reviewed", "--out", str(out_file)])
    assert code == 0 and "0 added, 0 updated" in out
    assert out_file.read_bytes() == before  # idempotent
    lines = [json.loads(line) for line in before.decode("utf-8").splitlines()]
    assert [row["id"] for row in lines] == ["keep-me", f"r-{first}", f"r-{second}"]
    assert f"r-{untouched}" not in before.decode("utf-8")
    reviewed = lines[1]
    assert reviewed == {"id": f"r-{first}", "question": "1日前の質問", "gold": ["3.2.2", "3.2"], "acceptable": [],
                        "answerable": True, "must_include": [], "must_not_include": [], "tags": ["reviewed", "line"]}
    assert lines[2]["answerable"] is False and lines[2]["gold"] == []
    rows = load_rows([out_file], parse_plan(PLAN_SOURCE))  # the eval loader accepts what we wrote
    assert [r.id for r in rows] == ["keep-me", f"r-{first}", f"r-{second}"]
