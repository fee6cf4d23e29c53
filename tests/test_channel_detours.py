"""Never a dead end, and staff answers for staff: Slack buttons for clarify answers and refusals, 👍/👎 with the
same reasons as LINE, the LINE postbacks, and Slack text without the citizen scope note or switchboard.
Pure renderers, tested on `Answer` objects built here (the LINE bubbles: tests/test_line_render.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from adapters.line.postback import (
    CONTACT_LABEL,
    ContactRequest,
    Feedback,
    Reason,
    WriteNote,
    feedback_data,
    parse_postback,
    reason_data,
)
from adapters.line.render import reason_buttons
from adapters.slack.blocks import ACTION_ASK, ACTION_CONTACT, AnswerView, answer_blocks, fallback_text, feedback_modal
from adapters.slack.delivery import staff_view
from bot.contacts import Contact
from bot.types import Answer, Citation, Point

CONTACT = "青森市役所（代表 017-734-1111）"
SNOW = Citation("3.2.2", "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進",
                "効果的・効率的な雪対策の推進")
DISASTER = Citation("3.2.1", "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策① 災害に強いまちづくり",
                    "災害に強いまちづくり")
VIEWPOINTS = Citation("viewpoints", "基本視点", "基本視点")
ENABLERS = Citation("enablers.2", "政策を実現するために (2) 行財政改革による行政の進化",
                    "政策を実現するために (2) 行財政改革による行政の進化")
REFUSAL = Answer("ゴミの分別は？", f"ご質問の内容は、青森市総合計画には記載がありません。お手数ですが、{CONTACT}"
                 "または市の公式ホームページでご確認ください。", False, kind="out_of_scope",
                 candidates=(SNOW, DISASTER))
CLARIFY = Answer("雪", "次のどれについてですか？", False, kind="clarify", candidates=(SNOW, DISASTER, ENABLERS))


def test_reason_buttons_and_postback_parsing() -> None:
    labels = [b.label for b in reason_buttons(5)]
    assert labels == ["違う施策", "情報が足りない", "分かりにくい", "その他", "✏️ 文章で伝える"]
    assert parse_postback(reason_buttons(5)[-1].data) == WriteNote(5)
    assert parse_postback(reason_buttons(5, "en")[0].data) == Reason(5, "wrong_measure", "en")
    assert parse_postback(reason_buttons(5)[0].data) == Reason(5, "wrong_measure")
    assert parse_postback(feedback_data(9, "down")) == Feedback(9, "down")
    assert parse_postback(reason_data(9, "unclear")) == Reason(9, "unclear")
    for forged in ("", "a=fb&v=meh&id=3", "a=fb&v=up&id=-1", "a=fb&v=up&id=x", "a=why&r=evil&id=2", "junk",
                   "a=fb&v=up&id=" + "9" * 40, "a=x" * 200):
        assert parse_postback(forged) is None, forged
    assert parse_postback("a=contact&n=../../etc") == ContactRequest(None)


def test_staff_view_shows_lead_points_and_ids_but_no_switchboard() -> None:
    answer = Answer("除雪は？", "青森市は、雪対策を効果的・効率的に進めることにしています。", True, (SNOW,),
                    lead="青森市は、雪対策を効果的・効率的に進めることにしています。", scope="titles_only",
                    points=(Point("施策① 人口減少に対応した災害に強い都市基盤整備", "3.2.1", None, "sibling"),),
                    contact=Contact(CONTACT))
    view = staff_view(answer, 5)
    blocks = answer_blocks(view)
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "017-734-1111" not in shown and "※" not in shown and "基本計画" not in shown
    assert "• 施策① 人口減少に対応した災害に強い都市基盤整備" in shown and "3.2.2 まちをデザインする" in shown
    department = staff_view(replace(answer, contact=Contact("道路維持課", "017-000-0000", "", "3.2.2")), 5)
    assert "担当: 道路維持課（電話 017-000-0000）" in json.dumps(answer_blocks(department), ensure_ascii=False)
    assert fallback_text(view) == f"{answer.lead} (3.2.2 {SNOW.path})"


def test_slack_fallback_text_has_no_raw_mrkdwn() -> None:
    view = AnswerView("*雪対策*を_進め_ます `code` ~x~", (("3.2.2", SNOW.path),), 1)
    assert not set("*_~`") & set(fallback_text(view))


def test_slack_note_modal_offers_the_same_reasons_as_line() -> None:
    modal = feedback_modal(9, "C1", None)
    radio = modal["blocks"][0]["element"]
    assert [o["text"]["text"] for o in radio["options"]] == [b.label for b in reason_buttons(9)[:4]]
    assert [o["value"] for o in radio["options"]] == ["wrong_measure", "not_enough", "unclear", "other"]
    assert modal["blocks"][1]["optional"] is True


def _buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_slack_related_questions_are_buttons_asking_in_the_thread() -> None:
    view = AnswerView("雪対策です。", (("3.2.2", SNOW.path),), 12, related=("除雪の担い手は？", "雪捨て場は？"))
    buttons = _buttons(answer_blocks(view))
    asks = [b for b in buttons if b["action_id"].startswith(ACTION_ASK)]
    assert [b["value"] for b in asks] == ["除雪の担い手は？", "雪捨て場は？"]
    assert len({b["action_id"] for b in asks}) == 2
    context = " ".join(e["text"] for b in answer_blocks(view) if b["type"] == "context" for e in b["elements"])
    assert "3.2.2" in context  # staff see the ids


def test_slack_refusal_and_clarify_offer_topics_and_the_city() -> None:
    view = AnswerView("次のどれについてですか？", (), 13, kind="clarify",
                      candidates=(("3.2.2", SNOW.title), ("enablers.2", ENABLERS.title)))
    buttons = _buttons(answer_blocks(view))
    asks = [b for b in buttons if b["action_id"].startswith(ACTION_ASK)]
    assert [b["value"] for b in asks] == [f"「{SNOW.title}」について教えて", f"「{ENABLERS.title}」について教えて"]
    assert asks[0]["text"]["text"].startswith("3.2.2 ")
    contact = [b for b in buttons if b["action_id"] == ACTION_CONTACT]
    assert len(contact) == 1 and contact[0]["value"] == "3.2.2" and contact[0]["text"]["text"] == CONTACT_LABEL
    plan = AnswerView("雪対策です。", (("3.2.2", SNOW.path),), 14)
    assert not [b for b in _buttons(answer_blocks(plan)) if b["action_id"] == ACTION_CONTACT]
