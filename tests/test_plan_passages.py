"""Answers from the loaded 基本計画: the sample plan (サンプル（架空の内容）) indexed from Markdown, PDF and DOCX into
real Chroma, asked through the real core. Quotes, passage citations, figures present and absent, the LLM guard,
the version in the answer log and on the review page, and a small eval over the sample's questions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from adapters.answer_text import render_plain
from adapters.app import create_app
from adapters.review import ReviewChannel
from bot.llm import LLMComposer
from bot.passages import PassageCues, PassageFinder, figure_rows
from bot.service import PlanBot, open_passages
from bot.store.answer_log import AnswerLog
from bot.store.db import Database
from bot.types import Answer, Citation, CitedSource, Question
from knowledge import PASSAGE_CUES_FILE
from knowledge.documents import Indicator, Passage, PassageLibrary, PassageSource, index_documents, open_chroma
from tests.review_helpers import add_reviewer, signed_in
from tests.servers.app import live_app

SAMPLE = Path(__file__).parent / "fixtures" / "sample_plan"
FORMATS = ("md", "pdf", "docx")
SNOW_TARGET = "除排雪に対する市民満足度: 現状値 35.2% (令和5年度) → 目標値 50.0% (令和12年度)"
# Every figure the sample holds: none of them may appear in a refusal.
SAMPLE_FIGURES = ("35.2", "50.0", "120.5", "135.0", "48", "60", "18.0", "40.0", "120", "600", "2,400", "3,000",
                  "15", "30")


def with_library(base: PlanBot, library: PassageLibrary, llm: LLMComposer | None = None) -> PlanBot:
    """The session's core (tree, index, classifier) reading passages from `library`."""
    return PlanBot(base.settings, base.tree, base.embedder, base.understand, base.retriever, base.compose,
                   base.thresholds, llm=llm, passages=PassageFinder(library, base.embedder), cues=base.cues)


@pytest.fixture(scope="module")
def libraries(planbot: PlanBot, tmp_path_factory: pytest.TempPathFactory) -> dict[str, PassageLibrary]:
    """The sample indexed once per format, each in its own embedded Chroma store."""
    found = {}
    for fmt in FORMATS:
        client = open_chroma(tmp_path_factory.mktemp(f"sample-{fmt}"))
        library = PassageLibrary(client, planbot.settings.collection_name)
        index_documents(library, planbot.tree, planbot.embedder, [SAMPLE / f"sample_plan.{fmt}"],
                        label=f"サンプル基本計画 {fmt}")
        found[fmt] = library
    return found


@pytest.fixture(scope="module", params=FORMATS)
def loaded(request: pytest.FixtureRequest, planbot: PlanBot, libraries: dict[str, PassageLibrary]) -> PlanBot:
    return with_library(planbot, libraries[request.param])


def ask(bot: PlanBot, text: str) -> Answer:
    return bot.ask(Question(text))


def numbers(text: str) -> set[str]:
    return set(re.findall(r"\d[\d,.]*\d|\d", text))


# --- value types -----------------------------------------------------------------------------------


def test_citation_public_is_additive() -> None:
    plain = Citation("3.2.2", "まちをデザインする › 政策2 › 施策②")
    assert plain.public() == {"id": "3.2.2", "path": "まちをデザインする › 政策2 › 施策②"}
    cited = Citation("3.2.2", "p", section="指標", source=CitedSource("2026版", "plan.pdf", 12))
    assert cited.public() == {"id": "3.2.2", "path": "p", "section": "指標",
                              "source": {"version": "2026版", "file": "plan.pdf", "page": 12}}
    assert "page" not in Citation("1", "p", section="主な取組", source=CitedSource("v", "a.md")).public()["source"]


def _row(node: str, name: str, unit: str, order: int) -> Passage:
    indicator = Indicator(name, "1.0", "令和5年度", "2.0", "令和12年度", unit)
    return Passage(node, "指標", name, PassageSource("v", "a.md"), indicator, order)


ROWS = [_row("3.2.2", "除排雪に対する市民満足度", "%", 1), _row("3.2.2", "流雪溝の整備延長", "km", 2),
        _row("3.2.3", "空き家バンクの成約件数", "件", 3), _row("1.2.3", "創業支援の制度融資の実行額", "億円", 4),
        _row("1.1.2", "就職支援セミナーの参加者数", "人", 5),
        _row("3.6.2", "町内会などによる資源物の集団回収量", "t", 6)]


@pytest.mark.parametrize(("question", "top", "expected"), [
    ("流雪溝は何キロまで延ばす目標？", "3.2.2", ["流雪溝の整備延長"]),
    ("雪対策の指標の目標値は？", "3.2.2", ["除排雪に対する市民満足度", "流雪溝の整備延長"]),
    ("空き家バンクの成約件数の目標は？", "3.2.3", ["空き家バンクの成約件数"]),
    ("除雪車は何台に増やすの？", "3.2.2", []),  # a unit no row carries
    ("雪対策の予算はいくら？", "3.2.2", []),
    ("市内の空き家は今何軒あるの？", "3.2.3", []),
    ("観光客数の目標値は？", "1.4.2", []),  # generic, but the top node has no rows
    ("創業支援の制度融資の実行額は何億円ですか？", "1.2.3", ["創業支援の制度融資の実行額"]),  # 億円 is 円
    ("就職支援セミナーには何人参加していますか", "1.2.1", ["就職支援セミナーの参加者数"]),  # found off the top node
    ("除排雪の市民満足度の率は？", "3.2.2", ["除排雪に対する市民満足度"]),  # 率 asks in %
    ("小型家電の回収量は何トン？", "3.6.2", []),  # 「回収量」 alone is not this row's name
])
def test_figure_rows_match_name_and_unit(question: str, top: str, expected: list[str]) -> None:
    cues = PassageCues.load(PASSAGE_CUES_FILE)
    assert [p.indicator.name for p in figure_rows(question, ROWS, top, cues) if p.indicator] == expected


# --- no documents: unchanged -----------------------------------------------------------------------


def test_without_documents_answers_are_unchanged(planbot: PlanBot) -> None:
    answer = ask(planbot, "冬の除雪はどうなる？")
    assert answer.plan_version is None and answer.quoted == ()
    assert all(set(c.public()) == {"id", "path"} for c in answer.citations)
    assert answer.scope == "titles_only"  # the channels say that 主な取組 and 指標 are not loaded
    assert "ここで読み込んでいる計画（体系図）には含まれていません" in render_plain(answer, planbot.compose.titles)
    refusal = ask(planbot, "雪対策の指標の目標値は？")
    assert refusal.kind == "not_in_plan" and "体系図" in refusal.text


# --- loaded from each format -----------------------------------------------------------------------


def test_indicator_question_quotes_the_row_and_cites_the_measure(loaded: PlanBot) -> None:
    answer = ask(loaded, "雪対策の指標の目標値は？")
    assert answer.kind == "plan", answer.text
    assert SNOW_TARGET in answer.text
    first = answer.citations[0].public()
    assert first["id"] == "3.2.2" and first["section"] == "指標"
    assert first["source"]["file"].startswith("sample_plan.")
    assert first["source"]["version"].startswith("サンプル基本計画")
    assert answer.plan_version is not None and "サンプル基本計画" in answer.plan_version


def test_indicator_rows_keep_the_page_of_a_pdf(libraries: dict[str, PassageLibrary], planbot: PlanBot) -> None:
    answer = ask(with_library(planbot, libraries["pdf"]), "雪対策の指標の目標値は？")
    assert isinstance(answer.citations[0].public()["source"].get("page"), int)
    md = ask(with_library(planbot, libraries["md"]), "雪対策の指標の目標値は？")
    assert "page" not in md.citations[0].public()["source"]


def test_a_figure_comes_with_its_unit_and_year(loaded: PlanBot) -> None:
    answer = ask(loaded, "創業支援の制度融資の実行額は何億円ですか？")
    assert answer.kind == "plan" and answer.citations[0].id == "1.2.3", answer.text
    assert "現状値 255.8億円 (令和4年度) → 目標値 300.0億円 (令和12年度)" in answer.text
    target = ask(loaded, "除排雪に対する市民満足度は何％を目指していますか？")
    assert target.kind == "plan" and SNOW_TARGET in target.text, target.text


def test_main_projects_answers_quote_main_projects_only(loaded: PlanBot) -> None:
    answer = ask(loaded, "ごみを減らすための主な取組を教えて")
    assert answer.citations[0].id == "3.6.2" and answer.citations[0].section == "主な取組", answer.text
    assert "生ごみの水切りと堆肥化を呼びかける啓発の強化" in answer.text
    assert "簡易包装やレジ袋の削減" not in answer.text and "前期基本計画（サンプル・架空）" not in answer.text


def test_specific_figure_quotes_only_its_row(loaded: PlanBot) -> None:
    answer = ask(loaded, "流雪溝は何キロまで延ばす目標？")
    assert answer.kind == "plan", answer.text
    assert "流雪溝の整備延長: 現状値 120.5km (令和5年度) → 目標値 135.0km (令和12年度)" in answer.text
    assert "除排雪に対する市民満足度" not in answer.text


def test_items_question_quotes_the_items(loaded: PlanBot) -> None:
    answer = ask(loaded, "雪対策ではどんな取組をするの？")
    assert answer.kind == "plan" and answer.citations[0].id == "3.2.2"
    assert "・流雪溝の整備と延伸" in answer.text and "・地域と協働した雪置き場の確保" in answer.text
    assert answer.citations[0].section == "主な取組"
    assert "ここで読み込んでいる計画（体系図）には含まれていません" not in answer.text and answer.scope == "document"


@pytest.mark.parametrize("question", ["除雪車は何台に増やすの？", "雪対策の予算はいくら？", "観光客数の目標値は？"])
def test_figure_not_in_the_sample_is_refused_without_a_number(loaded: PlanBot, question: str) -> None:
    answer = ask(loaded, question)
    assert answer.kind == "not_in_plan" and not answer.answerable, answer.text
    assert answer.plan_version is not None and answer.plan_version.split(" ", 1)[1] in answer.text
    allowed = numbers(loaded.settings.city_contact) | numbers(answer.plan_version)
    assert numbers(answer.text) <= allowed, answer.text


# --- the LLM guard ---------------------------------------------------------------------------------


def _llm_bot(base: PlanBot, library: PassageLibrary, reply: str) -> PlanBot:
    model = FakeMessagesListChatModel(responses=[AIMessage(content=reply)])
    composer = LLMComposer(model, "fake:list", base.tree, 10.0, base.settings.city_contact)
    return with_library(base, library, llm=composer)


def test_llm_may_give_a_figure_that_stands_in_a_cited_passage(planbot: PlanBot,
                                                              libraries: dict[str, PassageLibrary]) -> None:
    bot = _llm_bot(planbot, libraries["md"], "除排雪の市民満足度は令和12年度に50.0%を目指します[3.2.2]。")
    answer = ask(bot, "雪対策の指標の目標値は？")
    assert answer.mode == "llm" and answer.fallback_reason is None, answer.fallback_reason
    assert answer.citations[0].section == "指標"


@pytest.mark.parametrize("reply", ["除排雪の市民満足度は令和12年度に70.0%を目指します[3.2.2]。",
                                   "除雪車を25台に増やします[3.2.2]。"])
def test_llm_number_not_in_a_passage_is_rejected(planbot: PlanBot, libraries: dict[str, PassageLibrary],
                                                 reply: str) -> None:
    answer = ask(_llm_bot(planbot, libraries["md"], reply), "雪対策の指標の目標値は？")
    assert answer.mode == "extractive" and answer.fallback_reason == "invented_number"
    assert SNOW_TARGET in answer.text


def test_llm_number_from_an_uncited_node_is_rejected(planbot: PlanBot,
                                                     libraries: dict[str, PassageLibrary]) -> None:
    # 50.0 stands in 3.2.2's passage, but the reply cites only 3.2.3.
    answer = ask(_llm_bot(planbot, libraries["md"], "満足度は50.0%を目指します[3.2.3]。"), "雪対策の指標の目標値は？")
    assert answer.fallback_reason in ("invented_number", "no_valid_citations")


# --- start-up, the answer log and the review page --------------------------------------------------


def test_plan_sources_are_indexed_at_start_up_once(planbot: PlanBot, tmp_path: Path) -> None:
    settings = planbot.settings.model_copy(update={"data_dir": tmp_path,
                                                   "plan_sources": str(SAMPLE / "sample_plan.md")})
    library = open_passages(settings, planbot.tree, planbot.embedder, None, True)
    first = library.current_version()
    assert first is not None and [s.name for s in first.sources] == ["sample_plan.md"]
    again = open_passages(settings, planbot.tree, planbot.embedder, None, True).current_version()
    assert again is not None and again.id == first.id


def test_answer_log_stores_the_version(planbot: PlanBot, libraries: dict[str, PassageLibrary],
                                       database_url: str) -> None:
    database = Database(database_url)  # migrated to head: 0003 adds answer_log.plan_version
    database.migrate()
    log = AnswerLog(database)
    bot = with_library(planbot, libraries["md"])
    loaded_id = log.record(Question("雪対策の指標の目標値は？"), ask(bot, "雪対策の指標の目標値は？"), None)
    plain_id = log.record(Question("冬の除雪はどうなる？"), ask(planbot, "冬の除雪はどうなる？"), None)
    assert loaded_id is not None and plain_id is not None
    loaded_row, plain_row = log.get(loaded_id), log.get(plain_id)
    assert loaded_row is not None and loaded_row.plan_version is not None
    assert "サンプル基本計画 md" in loaded_row.plan_version
    assert loaded_row.citations[0]["section"] == "指標"
    assert plain_row is not None and plain_row.plan_version is None


@pytest.fixture()
def live_loaded(planbot: PlanBot, libraries: dict[str, PassageLibrary], tmp_path: Path) -> Iterator[Any]:
    settings = planbot.settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'log.sqlite3'}"})
    bot = with_library(planbot, libraries["md"])
    with live_app(create_app(settings, planbot=bot, channels=[ReviewChannel()])) as running:
        add_reviewer(running)
        yield running


def test_review_detail_shows_the_version(live_loaded: Any) -> None:
    reply = httpx.post(f"{live_loaded.url}/api/ask", json={"question": "雪対策の指標の目標値は？", "user_id": "U1"},
                       timeout=30)
    body = reply.json()
    assert body["citations"][0]["section"] == "指標"
    with signed_in(live_loaded) as (client, _):
        page = client.get(f"/review/answers/{body['answer_id']}")
        assert page.status_code == 200
        assert re.search(r'id="plan-version">v\d{4} サンプル基本計画 md<', page.text), page.text[:2000]


# --- eval over the sample's questions ----------------------------------------------------------------


def _passes(row: dict[str, Any], answer: Answer) -> bool:
    if not row["answerable"]:
        return (not answer.answerable and answer.kind == "not_in_plan"
                and not any(f in numbers(answer.text) for f in SAMPLE_FIGURES))
    first = answer.citations[0] if answer.citations else None
    return (answer.kind == "plan" and first is not None and first.id in row["gold"]
            and first.section == row["section"] and all(s in answer.text for s in row["must_include"]))


def sample_eval(bot: PlanBot, failed: list[str] | None = None) -> dict[str, float]:
    """Share of rows passed per group: passage questions, figures present, figures absent (ids that failed
    are appended to `failed`)."""
    rows = [json.loads(line) for line in (SAMPLE / "questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    groups: dict[str, list[bool]] = {}
    for row in rows:
        group = next(t for t in ("passage", "figure-present", "figure-absent") if t in row["tags"])
        passed = _passes(row, ask(bot, row["question"]))
        groups.setdefault(group, []).append(passed)
        if not passed and failed is not None:
            failed.append(row["id"])
    return {group: sum(results) / len(results) for group, results in groups.items()}


# Floors = the rates measured on this sample from MD, PDF and DOCX with the core's final thresholds
# (passage 6/8, figure present 7/7, figure absent 5/5); a drop below them is a regression. Passage questions
# scored 7/8 before the last dev calibration of the decision (2026-12-02); the extra miss is a retrieval one.
EVAL_FLOORS = {"passage": 0.75, "figure-present": 1.0, "figure-absent": 1.0}


def test_sample_eval_rates(loaded: PlanBot, capsys: pytest.CaptureFixture[str]) -> None:
    failed: list[str] = []
    rates = sample_eval(loaded, failed)
    version = loaded.passages.library.current_version() if loaded.passages else None
    with capsys.disabled():
        print(f"\nsample eval ({version.label if version else None}): {rates}, failed: {failed}")
    for group, floor in EVAL_FLOORS.items():
        assert rates[group] >= floor, (group, rates)
