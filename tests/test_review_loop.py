"""The communications team's loop under a real uvicorn: what to fix first (grouped with the bot's own
embedder, trend against the previous period), one correction for a whole group, the audit trail on the
detail page and in CSV, the dashboard's channel filter, and the contacts overview."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from adapters.app import create_app
from adapters.review import ReviewChannel
from adapters.review.fixfirst import fix_first, group_questions
from adapters.review.queries import JST
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.answer_log import AnswerLog
from bot.store.db import Database
from bot.store.models import AnswerRecord
from bot.types import Answer, Question
from tests.review_helpers import REVIEWER, add_reviewer, form_token, signed_in
from tests.servers.app import LiveApp, live_app

GARBAGE = ("ゴミの分別は？", "ごみの分別方法を教えて", "ゴミ出しのルールは")
BUS = ("バスの時刻表", "市営バスの時刻表を知りたい")
MAYOR = "市長は誰ですか"


def log_refusal(database: Database, question: str, days_ago: int, channel: str = "line",
                kind: str = "out_of_scope") -> int:
    answer = Answer(question, "計画には記載がありません。", False, kind=kind)  # type: ignore[arg-type]
    answer_id = AnswerLog(database).record(Question(question, channel=channel), answer, None)  # type: ignore[arg-type]
    assert answer_id is not None
    with database.session() as session:
        row = session.get(AnswerRecord, answer_id)
        assert row is not None
        row.created_at = datetime.now(UTC) - timedelta(days=days_ago, hours=1)
    return answer_id


@pytest.fixture()
def live(tmp_path: Path, settings: Settings, planbot: PlanBot) -> Iterator[LiveApp]:
    app_settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'loop.sqlite3'}"})
    with live_app(create_app(app_settings, planbot=planbot, channels=[ReviewChannel()])) as running:
        add_reviewer(running)
        yield running


def test_grouping_is_greedy_by_cosine() -> None:
    vectors = np.array([[1.0, 0.0], [0.99, 0.05], [0.0, 1.0], [0.05, 0.99], [0.7, 0.7]])
    rows = [(i + 1, f"q{i}", "out_of_scope", 0) for i in range(5)]
    groups = group_questions(rows, vectors, similarity=0.95)
    assert [g.answer_ids for g in groups] == [[1, 2], [3, 4], [5]]


def test_fix_first_groups_paraphrases_and_counts_the_trend(live: LiveApp, planbot: PlanBot) -> None:
    database = live.services.database
    for question in GARBAGE:
        log_refusal(database, question, days_ago=1)
    log_refusal(database, GARBAGE[0], days_ago=2, kind="clarify")
    bus_ids = [log_refusal(database, q, days_ago=3) for q in BUS]
    log_refusal(database, MAYOR, days_ago=40)  # previous period: matches no current group
    log_refusal(database, BUS[0], days_ago=35)  # previous period: one bus question then
    log_refusal(database, "API のテスト", days_ago=1, channel="api")  # API traffic is not the public's
    today = datetime.now(JST).date()
    groups = fix_first(database, planbot.embedder.embed_queries, today - timedelta(days=29), today)
    summary = [(g.example, g.count, g.previous, g.trend) for g in groups]
    assert summary == [("ゴミの分別は？", 4, 0, 4), ("バスの時刻表", 2, 1, 1)], summary
    assert groups[0].kinds == {"out_of_scope": 3, "clarify": 1}

    with signed_in(live) as (client, _):
        page = client.get("/review/fix")
        assert page.status_code == 200
        assert page.text.index("ゴミの分別は？") < page.text.index("バスの時刻表") and "▲ 4" in page.text
        link = f"/review/fix/correct?ids={','.join(str(i) for i in bus_ids)}"
        assert link in page.text
        form = client.get(link)
        assert form.status_code == 200 and all(q in form.text for q in BUS)
        saved = client.post("/review/fix/correct", data={
            "csrf_token": form_token(form.text), "ids": ",".join(str(i) for i in bus_ids),
            "answer": "市営バスの時刻表は市のホームページでご確認ください。", "citations": "3.3"})
        assert saved.status_code == 303 and saved.headers["location"] == "/review/fix?saved=2"
        after = client.get("/review/fix").text
        assert "バスの時刻表" not in after and "ゴミの分別は？" in after  # corrected groups leave the view
        detail = client.get(f"/review/answers/{bus_ids[1]}").text
        assert "修正した回答" in detail and REVIEWER in detail and "承認済み回答 #" in detail
        audit = client.get("/review/audit.csv", params={"answer": bus_ids[1]})
        rows = list(csv.DictReader(io.StringIO(audit.text.lstrip("\ufeff"))))
        assert [r["項目"] for r in rows] == ["修正した回答", "承認済み回答", "状態"]
        assert rows[0]["変更後"].startswith("市営バスの時刻表は") and rows[2]["変更後"] == "確認済み"
    again = httpx.post(f"{live.url}/api/ask", json={"question": BUS[1]}, timeout=30).json()
    assert again["mode"] == "approved"  # the bot reuses the group's correction


def test_dashboard_channel_filter_and_contacts_page(live: LiveApp) -> None:
    database = live.services.database
    log_refusal(database, "除雪は？", days_ago=0, channel="line")
    log_refusal(database, "テスト", days_ago=0, channel="api")
    with signed_in(live) as (client, _):
        default = client.get("/review/dashboard").text
        assert '<strong id="total">1</strong>' in default
        assert 'value="api" checked' not in default and 'value="line" checked' in default
        with_api = client.get("/review/dashboard", params=[("channel", "line"), ("channel", "api")]).text
        assert '<strong id="total">2</strong>' in with_api and "週ごと" in with_api and "月ごと" in with_api
        contacts = client.get("/review/contacts").text
        assert "問い合わせ先が未設定の項目" in contacts and "青森市役所 代表（電話 017-734-1111）" in contacts
        assert contacts.count('class="missing"') == len(list(live.services.planbot.tree)) - 1  # only `plan` set


def test_detail_shows_the_reason_and_the_topics_offered(live: LiveApp) -> None:
    from bot.types import Citation

    snow = Citation("3.2.2", "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進",
                    "効果的・効率的な雪対策の推進")
    answer = Answer("雪", "次のどれについてですか？", False, kind="clarify", candidates=(snow,),
                    reason="two measures within the margin")
    answer_id = AnswerLog(live.services.database).record(Question("雪", channel="line"), answer, None)
    assert answer_id is not None
    with signed_in(live) as (client, _):
        page = client.get(f"/review/answers/{answer_id}").text
        assert "two measures within the margin" in page and "代わりに示した候補" in page
        assert "施策② 効果的・効率的な雪対策の推進" in page and "聞き返し" in page
