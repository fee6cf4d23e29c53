"""The JSON contract of `planbot ask --json` and `POST /api/ask`: every field it had, with the same meaning
(`answer` the full plain text: content, scope note, whom to ask, sources), and the additive `lead`, `points`,
`scope`, `contact`. The plain renderer by example."""

from __future__ import annotations

from pathlib import Path

import httpx

from adapters.answer_text import render_plain
from adapters.app import create_app
from adapters.cli import _public
from bot.assistant import with_contact
from bot.contacts import Contact, ContactBook
from bot.service import PlanBot
from bot.settings import Settings
from bot.types import Answer, Citation, Point, Question
from knowledge.titles import load_titles
from tests.servers.app import live_app

OLD_FIELDS = {"question", "answer", "answerable", "kind", "citations", "candidates", "mode", "latency_ms"}
NEW_FIELDS = {"lead", "points", "scope", "contact"}
TITLES = load_titles()
SNOW_PATH = "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進"


def _json(planbot: PlanBot, question: str) -> dict[str, object]:
    settings = planbot.settings
    book = ContactBook.load(settings.contacts_file, settings.city_contact)
    return _public(with_contact(book, planbot.ask(Question(question, channel="cli"))), planbot.compose.titles)


def test_ask_json_keeps_every_field_and_adds_the_parts(planbot: PlanBot) -> None:
    record = _json(planbot, "冬の除雪はどうなる？")
    assert set(record) == OLD_FIELDS | NEW_FIELDS
    assert record["kind"] == "plan" and record["scope"] == "titles_only"
    assert record["lead"] == "青森市は、雪対策を効果的・効率的に進めることにしています。"
    assert record["points"] == [
        {"id": "3.2.1", "text": "施策① 人口減少に対応した災害に強い都市基盤整備", "section": None,
         "relation": "sibling"},
        {"id": "3.2.3", "text": "施策③ 空家等対策の推進", "section": None, "relation": "sibling"}]
    assert record["contact"] == {"department": "青森市役所（代表 017-734-1111）", "phone": "", "url": "", "id": None}
    answer = str(record["answer"])
    assert answer.startswith(str(record["lead"]))
    assert "詳しくは青森市役所（代表 017-734-1111）へお問い合わせください。" in answer
    assert "「基本計画」で定める" in answer
    assert "・3.2.2 まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進" in answer


def test_refusals_figures_and_structure_keep_what_the_evals_check(planbot: PlanBot) -> None:
    figure = _json(planbot, "除雪の予算はいくら？")
    assert (figure["kind"], figure["scope"]) == ("not_in_plan", "figure_absent")
    assert "億円" not in str(figure["answer"]) and "最新の情報は" in str(figure["answer"])
    counts = _json(planbot, "施策って全部でいくつあるの？")
    assert counts["scope"] == "structure" and "52" in str(counts["answer"]) and "17" in str(counts["answer"])
    assert "お問い合わせ" not in str(counts["answer"])
    hello = _json(planbot, "こんにちは")
    assert (hello["kind"], hello["answerable"], hello["scope"]) == ("out_of_scope", False, "greeting")


def test_the_plain_renderer_adds_only_fixed_channel_sentences() -> None:
    answer = Answer("What about snow?", "Aomori City plans to carry out snow measures effectively and efficiently.",
                    True, (Citation("3.2.2", SNOW_PATH, "効果的・効率的な雪対策の推進"),),
                    lead="Aomori City plans to carry out snow measures effectively and efficiently.",
                    points=(Point("Promoting measures on vacant houses", "3.2.3", None, "sibling"),),
                    scope="titles_only", contact=Contact("道路維持課", "017-000-0000", "", "3.2.2"))
    text = render_plain(answer, TITLES)
    assert text.startswith(answer.text + "\n\n")
    assert "For details, please contact 道路維持課（電話 017-000-0000）." in text
    assert text.endswith("- 3.2.2 Designing the city › Enhancing disaster prevention and snow measures › Promoting "
                         "effective and efficient snow measures (効果的・効率的な雪対策の推進)")
    reviewed = Answer("除雪は？", "市の担当者の回答です。", True, kind="approved", lead="市の担当者の回答です。",
                      scope="reviewed")
    assert render_plain(reviewed, TITLES) == "市の担当者の回答です。\n\n（この回答は市の担当者が確認した内容です）"


def test_api_ask_returns_the_same_object_plus_the_log_id(tmp_path: Path, settings: Settings, planbot: PlanBot) -> None:
    app_settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'log.sqlite3'}"})
    with live_app(create_app(app_settings, planbot=planbot, channels=[])) as live:
        body = httpx.post(f"{live.url}/api/ask", json={"question": "冬の除雪はどうなる？"}, timeout=30).json()
    assert set(body) == OLD_FIELDS | NEW_FIELDS | {"answer_id"}
    assert body["lead"] and body["points"] and body["scope"] == "titles_only"
    assert body["contact"]["department"] and "お問い合わせください" in body["answer"]
