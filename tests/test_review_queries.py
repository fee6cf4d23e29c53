"""Review-page queries on real SQLite and PostgreSQL databases: filters, paging, CSV export and dashboard figures."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from adapters.review import actions
from adapters.review.queries import JST, ReviewFilters, dashboard, iter_csv, list_answers
from bot.settings import Settings
from bot.store.answer_log import AnswerLog
from bot.store.db import Database, open_database
from bot.store.models import AnswerRecord
from bot.types import Answer, Citation, Question
from knowledge import PLAN_SOURCE
from knowledge.parser import parse_plan
from knowledge.tree import PlanTree


@pytest.fixture(scope="module")
def tree() -> PlanTree:
    return parse_plan(PLAN_SOURCE)


@pytest.fixture()
def database(tmp_path: Path, database_url: str) -> Iterator[Database]:
    """A fresh, migrated database: SQLite, and the same tests on PostgreSQL."""
    settings = Settings(PLANBOT_DATA_DIR=tmp_path, PLANBOT_ENV="test", DATABASE_URL=database_url)
    db = open_database(settings)
    yield db
    db.dispose()


def _log(database: Database, tree: PlanTree, text: str, channel: str, when_jst: datetime,
         cited: tuple[str, ...] = (), answerable: bool = True) -> int:
    citations = tuple(Citation(n, tree.breadcrumb(n)) for n in cited)
    answer = Answer(text, f"answer to {text}", answerable, citations, kind="plan" if answerable else "out_of_scope")
    answer_id = AnswerLog(database).record(Question(text, channel=channel), answer, None)  # type: ignore[arg-type]
    assert answer_id is not None
    with database.session() as session:
        row = session.get(AnswerRecord, answer_id)
        assert row is not None
        row.created_at = when_jst.replace(tzinfo=JST).astimezone(UTC)
    return answer_id


@pytest.fixture()
def seeded(database: Database, tree: PlanTree) -> dict[str, int]:
    log = AnswerLog(database)
    ids = {
        "snow": _log(database, tree, "冬の除雪はどうなる？", "line", datetime(2025, 1, 1, 23, 30), ("3.2.2",)),
        "kids": _log(database, tree, "子育て支援について", "slack", datetime(2025, 1, 2, 0, 30), ("2.1.1", "3.2.2")),
        "ramen": _log(database, tree, "おすすめのラーメン屋は？", "line", datetime(2025, 1, 2, 12, 0),
                      answerable=False),
        "percent": _log(database, tree, "達成率100%の施策は？", "api", datetime(2025, 1, 3, 9, 0), ("1",)),
        "formula": _log(database, tree, "=HYPERLINK(\"http://x\")", "api", datetime(2025, 1, 3, 10, 0),
                        answerable=False),
    }
    assert log.set_feedback(ids["snow"], "u1", "down", note="古い情報")
    assert log.set_feedback(ids["snow"], "u2", "up")
    assert log.set_feedback(ids["kids"], "u1", "up")
    assert log.set_feedback(ids["ramen"], "u3", "down")
    assert actions.set_status(database, ids["kids"], "reviewed", "alice")
    assert actions.set_status(database, ids["ramen"], "flag", "alice")
    return ids


def _ids(database: Database, **query: str) -> list[int]:
    page = list_answers(database, ReviewFilters.from_query(query))
    return [row.id for row in page.rows]


def test_filters_select_the_matching_answers(database: Database, seeded: dict[str, int]) -> None:
    s = seeded
    assert _ids(database) == [s["formula"], s["percent"], s["ramen"], s["kids"], s["snow"]]  # newest first
    assert _ids(database, channel="line") == [s["ramen"], s["snow"]]
    assert _ids(database, answerable="no") == [s["formula"], s["ramen"]]
    assert _ids(database, answerable="yes", channel="api") == [s["percent"]]
    assert _ids(database, down="1") == [s["ramen"], s["snow"]]
    assert _ids(database, status="unreviewed") == [s["formula"], s["percent"], s["snow"]]
    assert _ids(database, status="flagged") == [s["ramen"]]
    assert _ids(database, q="除雪") == [s["snow"]]
    assert _ids(database, q="answer to 子育て") == [s["kids"]]  # the answer text is searched too
    assert _ids(database, q="100%") == [s["percent"]]  # % is literal, not a wildcard
    assert _ids(database, q="率%の") == []  # as a wildcard it would match 率100%の


def test_date_range_uses_japan_days(database: Database, seeded: dict[str, int]) -> None:
    s = seeded
    # 23:30 JST on 1 January is 14:30 UTC: it belongs to 1 January in Aomori.
    assert _ids(database, **{"from": "2025-01-01", "to": "2025-01-01"}) == [s["snow"]]
    assert _ids(database, **{"from": "2025-01-02", "to": "2025-01-02"}) == [s["ramen"], s["kids"]]
    assert _ids(database, **{"from": "2025-01-03"}) == [s["formula"], s["percent"]]
    assert _ids(database, to="2025-01-01", down="1") == [s["snow"]]


def test_malformed_filters_are_ignored(database: Database, seeded: dict[str, int]) -> None:
    filters = ReviewFilters.from_query({"channel": "fax", "from": "yesterday", "answerable": "maybe",
                                        "status": "x", "page": "-3"})
    assert filters == ReviewFilters()
    assert len(list_answers(database, filters).rows) == len(seeded)


def test_paging(database: Database, tree: PlanTree) -> None:
    start = datetime(2025, 2, 1, 9, 0)
    ids = [_log(database, tree, f"質問{i}", "line", start + timedelta(minutes=i)) for i in range(23)]
    first = list_answers(database, ReviewFilters(per_page=10))
    assert (first.total, first.pages, first.page) == (23, 3, 1)
    assert [r.id for r in first.rows] == ids[::-1][:10]
    last = list_answers(database, ReviewFilters(per_page=10, page=3))
    assert [r.id for r in last.rows] == ids[::-1][20:]
    beyond = list_answers(database, ReviewFilters(per_page=10, page=99))
    assert beyond.page == 3 and [r.id for r in beyond.rows] == [r.id for r in last.rows]
    assert ReviewFilters(channel="line", thumbs_down=True, page=2).query() == {"channel": "line", "down": "1",
                                                                                  "page": "2"}


def _csv(database: Database, filters: ReviewFilters, batch: int = 500) -> list[dict[str, str]]:
    text = "".join(iter_csv(database, filters, batch=batch))
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_export_holds_every_filtered_row(database: Database, seeded: dict[str, int]) -> None:
    rows = _csv(database, ReviewFilters(answerable=False, per_page=1), batch=1)
    assert [int(r["id"]) for r in rows] == [seeded["formula"], seeded["ramen"]]
    formula, ramen = rows
    assert formula["question"].startswith("'=HYPERLINK")  # never a live formula in Excel
    assert ramen["feedback_down"] == "1" and ramen["review_status"] == "flagged" and ramen["reviewer"] == "alice"
    assert ramen["created_at_jst"] == "2025-01-02T12:00:00+09:00"
    everything = _csv(database, ReviewFilters())
    assert len(everything) == len(seeded)
    kids = next(r for r in everything if int(r["id"]) == seeded["kids"])
    assert kids["citations"] == "2.1.1 3.2.2" and kids["answerable"] == "yes" and kids["channel"] == "slack"


def test_dashboard_figures(database: Database, seeded: dict[str, int], tree: PlanTree) -> None:
    figures = dashboard(database, tree, date(2025, 1, 1), date(2025, 1, 4))
    assert figures.days == [date(2025, 1, d) for d in (1, 2, 3, 4)]
    assert figures.per_day == {"api": [0, 0, 2, 0], "line": [1, 1, 0, 0], "slack": [0, 1, 0, 0]}
    assert figures.total == 5
    assert figures.unanswerable == 2 and figures.unanswerable_rate == pytest.approx(0.4)
    assert figures.thumbs_down == 2 and figures.thumbs_down_rate == pytest.approx(0.4)
    assert figures.unanswerable_by_day == [0.0, 0.5, 0.5, None]
    assert figures.thumbs_down_by_day == [1.0, 0.5, 0.0, None]
    assert figures.top_measures() == [("3.2.2", 2), ("2.1.1", 1)]  # the pillar citation "1" is no measure
    measures = {m.id for m in tree.of_kind("measure")}
    assert len(measures) == 52
    assert set(figures.never_asked) == measures - {"3.2.2", "2.1.1"}
    only_first = dashboard(database, tree, date(2025, 1, 1), date(2025, 1, 1))
    assert only_first.total == 1 and only_first.top_measures() == [("3.2.2", 1)]


def test_dashboard_without_answers(database: Database, tree: PlanTree) -> None:
    figures = dashboard(database, tree, date(2025, 3, 1), date(2025, 3, 2))
    assert figures.total == 0 and figures.unanswerable_rate is None and figures.thumbs_down_rate is None
    assert figures.per_day == {} and len(figures.never_asked) == 52
