"""The communications team's loop under a real uvicorn: what to fix first (grouped with the bot's own
embedder, trend against the previous period), one correction for a whole group, the audit trail on the
detail page and in CSV, the dashboard's channel filter, and the contacts overview."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest

from adapters.app import create_app
from adapters.review import ReviewChannel, actions
from adapters.review.fixfirst import FixRow, fix_first, group_questions
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
def live(database_url: str, settings: Settings, planbot: PlanBot) -> Iterator[LiveApp]:
    app_settings = settings.model_copy(update={"database_url": database_url})
    with live_app(create_app(app_settings, planbot=planbot, channels=[ReviewChannel()])) as running:
        add_reviewer(running)
        yield running


def _rows(*nodes: str | None) -> list[FixRow]:
    return [FixRow(i + 1, f"q{i}", "out_of_scope", False, node) for i, node in enumerate(nodes)]


def test_grouping_needs_every_pair_alike_and_one_node() -> None:
    def at(degrees: float) -> list[float]:
        return [float(np.cos(np.radians(degrees))), float(np.sin(np.radians(degrees)))]

    # 0° and 15° are alike (0.966), 15° and 30° too, but 0° and 30° are not (0.866): no chaining through 15°.
    chain = np.array([at(0), at(15), at(30), at(90), at(92)])
    groups = group_questions(_rows(None, None, None, None, None), chain, similarity=0.9)
    assert [g.answer_ids for g in groups] == [[1, 2], [3], [4, 5]]
    # The same meaning about two different nodes is two subjects.
    same = np.array([at(0), at(1), at(0), at(2)])
    by_node = group_questions(_rows("3.2.3", "1.3.2", "3.2.3", "1.3.2"), same, similarity=0.9)
    assert [(g.node, g.answer_ids) for g in by_node] == [("3.2.3", [1, 3]), ("1.3.2", [2, 4])]


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
        correction = {"csrf_token": form_token(form.text), "ids": ",".join(str(i) for i in bus_ids),
                      "answer": "市営バスの時刻表は\r\n市のホームページでご確認ください。", "citations": "3.3"}
        unconfirmed = client.post("/review/fix/correct", data=correction)
        assert unconfirmed.status_code == 422 and "確認のチェック" in unconfirmed.text
        assert live.services.approved.active() == []  # nothing saved before the reviewer confirmed
        saved = client.post("/review/fix/correct", data={**correction, "confirm": "yes"})
        assert saved.status_code == 303 and saved.headers["location"] == "/review/fix?saved=2"
        stored = live.services.answer_log.get(bus_ids[0])  # the browser's CRLF is stored as one "\n"
        assert stored is not None and stored.corrected_answer == correction["answer"].replace("\r\n", "\n")
        after = client.get("/review/fix").text
        assert "バスの時刻表" not in after and "ゴミの分別は？" in after  # corrected groups leave the view
        detail = client.get(f"/review/answers/{bus_ids[1]}").text
        assert "修正した回答" in detail and REVIEWER in detail and "承認済み回答 #" in detail
        audit = client.get("/review/audit.csv", params={"answer": bus_ids[1]})
        rows = list(csv.DictReader(io.StringIO(audit.text.lstrip("\ufeff"))))
        assert [r["項目"] for r in rows] == ["修正した回答", "承認済み回答", "状態"]
        assert rows[0]["変更後"].startswith("市営バスの時刻表は\n") and rows[2]["変更後"] == "確認済み"
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


def test_correct_handling_leaves_the_view_and_keeps_the_trend(live: LiveApp, planbot: PlanBot) -> None:
    database = live.services.database
    garbage = [log_refusal(database, q, days_ago=1) for q in GARBAGE]
    bus = [log_refusal(database, q, days_ago=2) for q in BUS]
    earlier = log_refusal(database, GARBAGE[0], days_ago=35)  # the previous period, already marked fine
    assert actions.set_status(database, earlier, "no_action", REVIEWER)
    today = datetime.now(JST).date()
    with signed_in(live) as (client, token):
        step = f"/review/fix/no-action?ids={','.join(map(str, bus))}"
        assert step in client.get("/review/fix").text
        confirm = client.get(step)
        assert confirm.status_code == 200 and all(q in confirm.text for q in BUS) and "やめる" in confirm.text
        skipped = client.post("/review/fix/no-action", data={"csrf_token": token, "ids": ",".join(map(str, bus))})
        assert skipped.status_code == 303 and skipped.headers["location"] == step  # no answer: back to the step
        assert {_status(live, i) for i in bus} == {"unreviewed"}
        done = client.post("/review/fix/no-action", data={"csrf_token": token, "ids": ",".join(map(str, bus)),
                                                          "confirm": "yes"})
        assert done.status_code == 303 and done.headers["location"] == "/review/fix?marked=2"
        after = client.get(done.headers["location"]).text
        assert "2件の質問を「正しい対応（対応不要）」にしました" in after and "バスの時刻表" not in after
        back = f"/review/fix?from={today - timedelta(days=29)}&to={today}&marked_row={garbage[0]}"
        one = client.post(f"/review/answers/{garbage[0]}/status",
                          data={"csrf_token": token, "action": "no_action", "back": back})
        assert one.status_code == 303 and one.headers["location"] == back
        shown = client.get(back).text
        assert 'id="undo"' in shown and _status(live, garbage[0]) == "no_action"
        groups = fix_first(database, planbot.embedder.embed_queries, today - timedelta(days=29), today)
        assert [(g.example, g.count, g.previous) for g in groups] == [(GARBAGE[1], 2, 1)]  # the trend counts it
        listed = client.get("/review", params={"status": "no_action"}).text
        assert listed.count("正しい対応（対応不要）") >= 3 and all(f"/review/answers/{i}" in listed for i in bus)
        undone = client.post(f"/review/answers/{garbage[0]}/status",
                             data={"csrf_token": token, "action": "reopen", "back": back})
        assert undone.status_code == 303 and _status(live, garbage[0]) == "unreviewed"
    groups = fix_first(database, planbot.embedder.embed_queries, today - timedelta(days=29), today)
    assert [(g.example, g.count) for g in groups] == [(GARBAGE[0], 3)]


def _status(live: LiveApp, answer_id: int) -> str:
    row = live.services.answer_log.get(answer_id)
    assert row is not None
    return row.review_status


def test_the_core_s_reasons_and_modes_read_as_japanese(live: LiveApp) -> None:
    answer = Answer("おすすめのラーメン屋は？", "計画には記載がありません。", False, kind="out_of_scope",
                    reason="P(lookup|chit-chat)=0.84")
    answer_id = AnswerLog(live.services.database).record(Question(answer.question, channel="slack"), answer, None)
    assert answer_id is not None
    with signed_in(live) as (client, _):
        page = client.get(f"/review/answers/{answer_id}").text
    reason = page[page.index('id="reason"'):page.index("</dd>", page.index('id="reason"'))]
    assert "市の窓口・手続きの問い合わせか雑談と判断しました（確からしさ 84%）" in reason
    facts = page[page.index('id="facts"'):page.index("</dl>")]
    assert "計画の文言から作成" in facts and "extractive" not in facts and "対象外" in facts
    assert "Slack" in page and "ミリ秒" in facts
