"""Never a dead end, and staff answers for staff: LINE quick replies and Slack buttons for clarify answers
and refusals, citizen-readable sources, 👍/👎 postbacks, and Slack text without the citizen boilerplate.
Pure renderers, tested on `Answer` objects built here."""

from __future__ import annotations

from typing import Any

from adapters.answer_text import siblings_once, staff_text
from adapters.line.client import to_line_messages
from adapters.line.postback import (
    CONTACT_LABEL,
    ContactRequest,
    Feedback,
    Reason,
    feedback_data,
    parse_postback,
    reason_data,
)
from adapters.line.render import MAX_LABEL_UNITS, MAX_QUICK_REPLIES, reason_buttons, render_answer, utf16_units
from adapters.slack.blocks import ACTION_ASK, ACTION_CONTACT, AnswerView, answer_blocks
from bot.types import Answer, Citation

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


def _actions(answer: Answer, answer_id: int | None = 7) -> list[dict[str, Any]]:
    message = to_line_messages(render_answer(answer, answer_id))[-1].to_dict()
    return [item["action"] for item in message["quickReply"]["items"]]


def test_line_refusal_offers_the_nearest_topics_and_the_city() -> None:
    actions = _actions(REFUSAL)
    assert [a["type"] for a in actions] == ["message", "message", "postback"]
    assert actions[0]["text"] == "「効果的・効率的な雪対策の推進」について教えて"
    assert actions[0]["label"] == "効果的・効率的な雪対策の推進"
    assert actions[-1]["label"] == CONTACT_LABEL
    assert parse_postback(actions[-1]["data"]) == ContactRequest("3.2.2")
    assert all(utf16_units(a["label"]) <= MAX_LABEL_UNITS for a in actions)


def test_line_clarify_offers_its_candidates_without_internal_ids() -> None:
    actions = _actions(CLARIFY)
    labels = [a["label"] for a in actions]
    assert labels[-1] == CONTACT_LABEL and len(labels) == 4
    assert labels[2].startswith("政策を実現するために(2)")
    assert not any("enablers" in label for label in labels)
    assert actions[2]["text"] == "「政策を実現するために (2) 行財政改革による行政の進化」について教えて"


def test_line_sources_name_sections_and_explain_provisional_once() -> None:
    answer = Answer("基本視点は？",
                    "【基本視点】\n・(仮) 未来をひらく若者の希望があふれるまち\n・(仮) 人々が行き交う魅力あるまち",
                    True, (VIEWPOINTS, ENABLERS), kind="structure")
    text = "\n".join(render_answer(answer, 3).texts)
    assert "・基本視点" in text and "・政策を実現するために(2) 行財政改革による行政の進化" in text
    assert "viewpoints" not in text and "enablers" not in text
    assert text.count("検討中の仮称") == 1


def test_line_plan_answer_carries_thumbs_within_thirteen() -> None:
    related = tuple(f"関連する質問その{i}" for i in range(20))
    answer = Answer("除雪は？", "雪対策の推進です。", True, (SNOW,), related=related)
    actions = _actions(answer, 42)
    assert len(actions) == MAX_QUICK_REPLIES
    assert [parse_postback(a["data"]) for a in actions[:2]] == [Feedback(42, "up"), Feedback(42, "down")]
    assert actions[0]["displayText"].startswith("👍") and actions[1]["displayText"].startswith("👎")
    assert [a["type"] for a in actions[2:]] == ["message"] * 11
    assert not [a for a in _actions(answer, None) if a["type"] == "postback"]  # unlogged: nothing to rate


def test_reason_buttons_and_postback_parsing() -> None:
    labels = [b.label for b in reason_buttons(5)]
    assert labels == ["違う施策", "情報が足りない", "分かりにくい", "その他"]
    assert parse_postback(reason_buttons(5)[0].data) == Reason(5, "wrong_measure")
    assert parse_postback(feedback_data(9, "down")) == Feedback(9, "down")
    assert parse_postback(reason_data(9, "unclear")) == Reason(9, "unclear")
    for forged in ("", "a=fb&v=meh&id=3", "a=fb&v=up&id=-1", "a=fb&v=up&id=x", "a=why&r=evil&id=2", "junk",
                   "a=fb&v=up&id=" + "9" * 40, "a=x" * 200):
        assert parse_postback(forged) is None, forged
    assert parse_postback("a=contact&n=../../etc") == ContactRequest(None)


def test_staff_text_drops_the_citizen_disclaimer_and_switchboard() -> None:
    text = ("青森市総合計画では、次のように位置づけられています。\n\n■ 施策② 効果的・効率的な雪対策の推進\n\n"
            "※ 各施策の主な取組や指標・目標値は「基本計画」で定めるものです。"
            f"詳しくは{CONTACT}へお問い合わせください。")
    staff = staff_text(text, [CONTACT])
    assert "017-734-1111" not in staff and "※" not in staff and "雪対策の推進" in staff
    refusal = staff_text(REFUSAL.text, [CONTACT])
    assert refusal == "ご質問の内容は、青森市総合計画には記載がありません。"


def test_siblings_are_named_once_in_a_list_of_measures() -> None:
    text = ("■ 施策① 充実した交通網を活かした立体観光の推進\n"
            "同じ政策には、ほかに「施策② 地域特性を活かした観光資源の魅力向上」"
            "、「施策③ 受入態勢の強化と効果的な情報発信」があります。\n\n■ 施策② 地域特性を活かした観光資源の魅力向上\n"
            "同じ政策には、ほかに「施策① 充実した交通網を活かした立体観光の推進」、"
            "「施策③ 受入態勢の強化と効果的な情報発信」があります。")
    once = siblings_once(text, ["充実した交通網を活かした立体観光の推進", "地域特性を活かした観光資源の魅力向上"])
    assert once.count("同じ政策には") == 1
    assert "ほかに「施策③ 受入態勢の強化と効果的な情報発信」があります。" in once
    everything = siblings_once(text, ["充実した交通網を活かした立体観光の推進", "地域特性を活かした観光資源の魅力向上",
                                      "受入態勢の強化と効果的な情報発信"])
    assert "同じ政策には" not in everything


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
