"""Review-page queries on real SQLite and PostgreSQL databases: filters, paging, CSV export and dashboard figures."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from adapters.review import actions
from adapters.review.export import ANSWER_COLUMNS, AUDIT_COLUMNS, iter_answers_csv, iter_audit_csv
from adapters.review.queries import CHANNELS, JST, ReviewFilters, dashboard, list_answers
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
    assert _ids(database) == [s["ramen"], s["kids"], s["snow"]]  # newest first; API traffic left out
    assert _ids(database, api="1") == [s["formula"], s["percent"], s["ramen"], s["kids"], s["snow"]]
    assert _ids(database, channel="line") == [s["ramen"], s["snow"]]
    assert _ids(database, answerable="no") == [s["ramen"]]
    assert _ids(database, answerable="no", api="1") == [s["formula"], s["ramen"]]
    assert _ids(database, answerable="yes", channel="api") == [s["percent"]]  # asking for API shows it
    assert _ids(database, down="1") == [s["ramen"], s["snow"]]
    assert _ids(database, status="unreviewed", api="1") == [s["formula"], s["percent"], s["snow"]]
    assert _ids(database, status="flagged") == [s["ramen"]]
    assert _ids(database, q="除雪") == [s["snow"]]
    assert _ids(database, q="answer to 子育て") == [s["kids"]]  # the answer text is searched too
    assert _ids(database, q="100%", api="1") == [s["percent"]]  # % is literal, not a wildcard
    assert _ids(database, q="率%の", api="1") == []  # as a wildcard it would match 率100%の
    assert ReviewFilters.from_query({"api": "1"}).query() == {"api": "1"}


def test_date_range_uses_japan_days(database: Database, seeded: dict[str, int]) -> None:
    s = seeded
    # 23:30 JST on 1 January is 14:30 UTC: it belongs to 1 January in Aomori.
    assert _ids(database, **{"from": "2025-01-01", "to": "2025-01-01"}) == [s["snow"]]
    assert _ids(database, **{"from": "2025-01-02", "to": "2025-01-02"}) == [s["ramen"], s["kids"]]
    assert _ids(database, **{"from": "2025-01-03", "api": "1"}) == [s["formula"], s["percent"]]
    assert _ids(database, to="2025-01-01", down="1") == [s["snow"]]


def test_malformed_filters_are_ignored(database: Database, seeded: dict[str, int]) -> None:
    filters = ReviewFilters.from_query({"channel": "fax", "from": "yesterday", "answerable": "maybe",
                                        "status": "x", "page": "-3"})
    assert filters == ReviewFilters()
    assert len(list_answers(database, filters).rows) == len(seeded) - 2  # all but the two API rows


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
    text = "".join(iter_answers_csv(database, filters, batch=batch))
    assert text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text[1:]))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == ANSWER_COLUMNS
    return rows


def test_csv_export_holds_every_filtered_row_in_japanese(database: Database, seeded: dict[str, int]) -> None:
    rows = _csv(database, ReviewFilters(answerable=False, with_api=True, per_page=1), batch=1)
    assert [int(r["ID"]) for r in rows] == [seeded["formula"], seeded["ramen"]]
    formula, ramen = rows
    assert formula["質問"].startswith("'=HYPERLINK")  # never a live formula in Excel
    assert ramen["👎の数"] == "1" and ramen["状態"] == "要対応" and ramen["担当者"] == "alice"
    assert ramen["日時（JST）"] == "2025-01-02 12:00:00"  # a layout Excel reads as a date and time
    assert datetime.strptime(ramen["日時（JST）"], "%Y-%m-%d %H:%M:%S") == datetime(2025, 1, 2, 12, 0)
    assert ramen["回答できたか"] == "いいえ" and ramen["種別"] == "対象外"
    everything = _csv(database, ReviewFilters(with_api=True))
    assert len(everything) == len(seeded)
    assert len(_csv(database, ReviewFilters())) == len(seeded) - 2  # the CSV follows the list: API left out
    kids = next(r for r in everything if int(r["ID"]) == seeded["kids"])
    assert kids["引用"] == "2.1.1 3.2.2" and kids["回答できたか"] == "はい" and kids["チャネル"] == "Slack"
    snow = next(r for r in everything if int(r["ID"]) == seeded["snow"])
    assert snow["👎のメモ"] == "古い情報" and snow["👍の数"] == "1"


def test_csv_carries_line_reasons_and_notes(database: Database, seeded: dict[str, int]) -> None:
    log = AnswerLog(database)
    assert log.set_feedback(seeded["kids"], "u9", "down", reason="wrong_measure", note="=1+1 違う施策です")
    kids = next(r for r in _csv(database, ReviewFilters()) if int(r["ID"]) == seeded["kids"])
    assert kids["👎の理由"] == "違う施策" and kids["👎のメモ"] == "'=1+1 違う施策です"


def test_sorting_and_the_corrected_filter(database: Database, seeded: dict[str, int]) -> None:
    s = seeded
    assert _ids(database, sort="old", api="1") == [s["snow"], s["kids"], s["ramen"], s["percent"], s["formula"]]
    log = AnswerLog(database)
    assert log.set_feedback(s["kids"], "u7", "down") and log.set_feedback(s["kids"], "u8", "down")
    assert _ids(database, sort="down")[:3] == [s["kids"], s["ramen"], s["snow"]]  # 2, then 1 newest first
    assert _ids(database, corrected="1") == []
    with database.session() as session:
        row = session.get(AnswerRecord, s["ramen"])
        assert row is not None
        row.corrected_answer = "修正済みの回答"
    assert _ids(database, corrected="1") == [s["ramen"]]
    assert ReviewFilters(corrected=True, sort="down").query() == {"corrected": "1", "sort": "down"}


def test_every_review_change_is_in_the_audit_trail(database: Database, seeded: dict[str, int]) -> None:
    ramen = seeded["ramen"]
    assert actions.set_note(database, ramen, "観光の質問として扱う", "bob")
    assert actions.set_status(database, ramen, "reviewed", "bob")
    assert actions.set_status(database, ramen, "reviewed", "bob")  # no change: not an entry
    trail = actions.audit_for(database, ramen)
    assert [(a.reviewer, a.field, a.old_value, a.new_value) for a in trail] == [
        ("alice", "status", "unreviewed", "flagged"),
        ("bob", "note", None, "観光の質問として扱う"),
        ("bob", "status", "flagged", "reviewed"),
    ]
    assert all(a.changed_at is not None for a in trail)
    text = "".join(iter_audit_csv(database, ramen))
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert tuple(rows[0]) == AUDIT_COLUMNS
    assert [(r["担当者"], r["項目"], r["変更前"], r["変更後"]) for r in rows] == [
        ("alice", "状態", "未確認", "要対応"), ("bob", "メモ", "", "観光の質問として扱う"),
        ("bob", "状態", "要対応", "確認済み")]
    everything = list(csv.DictReader(io.StringIO("".join(iter_audit_csv(database))[1:])))
    assert len(everything) == 4 and everything[0]["回答ID"] == str(seeded["kids"])  # + kids marked reviewed


def test_dashboard_figures(database: Database, seeded: dict[str, int], tree: PlanTree) -> None:
    figures = dashboard(database, tree, date(2025, 1, 1), date(2025, 1, 4), CHANNELS)
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


def test_dashboard_leaves_out_api_by_default_and_shows_trends(database: Database, seeded: dict[str, int],
                                                              tree: PlanTree) -> None:
    people = dashboard(database, tree, date(2024, 12, 30), date(2025, 2, 2))
    assert "api" not in people.channels and "api" not in people.per_day and people.total == 3
    assert [(t.period, t.total, t.refused, t.down) for t in people.weekly] == [("12月30日の週", 3, 1, 2)]
    line = _log(database, tree, "雪", "line", datetime(2025, 1, 20, 9, 0))
    assert line
    people = dashboard(database, tree, date(2024, 12, 30), date(2025, 2, 2))
    assert [(t.period, t.total) for t in people.weekly] == [("12月30日の週", 3), ("1月20日の週", 1)]
    assert [(t.period, t.total) for t in people.monthly] == [("2025年1月", 4)]
    assert people.monthly[0].refused_rate == pytest.approx(0.25)
    api_only = dashboard(database, tree, date(2025, 1, 1), date(2025, 1, 4), ("api",))
    assert api_only.total == 2 and api_only.per_day == {"api": [0, 0, 2, 0]}


def test_dashboard_without_answers(database: Database, tree: PlanTree) -> None:
    figures = dashboard(database, tree, date(2025, 3, 1), date(2025, 3, 2))
    assert figures.total == 0 and figures.unanswerable_rate is None and figures.thumbs_down_rate is None
    assert figures.per_day == {} and len(figures.never_asked) == 52
