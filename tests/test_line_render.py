"""LINE rendering by example: the Flex bubble of each kind of answer (header, lead, ≤ 3 points, sources in words,
👍/👎, the contact as tel:), validated as the SDK and LINE do; quick-reply labels; the plain-text fallback; no id a
citizen could see; plus the text utilities (5000-unit / 5-message limits, Markdown, mentions)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from adapters.answer_text import plain_text
from adapters.line import flex
from adapters.line.bubbles import render_answer
from adapters.line.client import to_line_messages
from adapters.line.postback import Ask, Feedback, parse_postback
from adapters.line.render import (
    MAX_LABEL_UNITS,
    MAX_MESSAGES,
    MAX_TEXT_UNITS,
    greeting,
    quick_buttons,
    split_text,
    strip_mentions,
    text_please,
    utf16_units,
)
from bot.contacts import Contact
from bot.types import Answer, Citation, Point
from knowledge.titles import load_titles
from tests.fakes.line_flex import flex_problem

TITLES = load_titles()
CITY = Contact("青森市役所（代表 017-734-1111）")
SNOW = Citation("3.2.2", "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進",
                "効果的・効率的な雪対策の推進")
POLICY = "まちをデザインする › 政策2 災害防止・雪対策の充実"
DISASTER = Citation("3.2.1", f"{POLICY} › 施策① 人口減少に対応した災害に強い都市基盤整備",
                    "人口減少に対応した災害に強い都市基盤整備")
VACANT = Citation("3.2.3", f"{POLICY} › 施策③ 空家等対策の推進", "空家等対策の推進")
SIBLINGS = (Point("施策① 人口減少に対応した災害に強い都市基盤整備", "3.2.1", None, "sibling"),
            Point("施策③ 空家等対策の推進", "3.2.3", None, "sibling"))
SNOW_LEAD = "青森市は、雪対策を効果的・効率的に進めることにしています。"
SNOW_ANSWER = Answer("冬の除雪はどうなる？", SNOW_LEAD, True, (SNOW,), lead=SNOW_LEAD, points=SIBLINGS,
                     scope="titles_only", contact=CITY)
# An internal id as a citizen would see it: 「3.2.2」, 「2.1」, or a section's code.
ID = re.compile(r"(?<![0-9.])\d\.\d(\.\d)?(?![0-9])|\b(viewpoints|enablers|challenges|schedule)\b")


def _sent(answer: Answer, answer_id: int | None = 7, show_note: bool = False) -> list[dict[str, Any]]:
    reply = render_answer(answer, TITLES, answer_id, show_note)
    return [m.to_dict() for m in to_line_messages(reply)]


def _bubble(messages: list[dict[str, Any]]) -> dict[str, Any]:
    assert messages[-1]["type"] == "flex"
    assert flex_problem(messages[-1]) is None  # LINE would take it
    return dict(messages[-1]["contents"])


def _actions(bubble: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for part in ("body", "footer"):
        for component in flex.walk(bubble.get(part)):
            if component.get("type") in ("button", "box") and "action" in component:
                found.append(component["action"])
    return found


def test_a_plan_answer_is_one_bubble_with_header_lead_sources_thumbs_and_a_tel_contact() -> None:
    messages = _sent(SNOW_ANSWER)
    assert len(messages) == 1
    bubble = _bubble(messages)
    assert bubble["header"]["contents"][0]["text"] == "雪対策"
    assert bubble["body"]["contents"][0]["text"] == SNOW_ANSWER.lead
    footer = [c.get("text") for c in bubble["footer"]["contents"] if c["type"] == "text"]
    assert footer == ["出典：まちをデザインする › 防災・雪対策 › 雪対策"]
    actions = _actions(bubble)
    assert [parse_postback(a["data"]) for a in actions if a["type"] == "postback"] == [Feedback(7, "up"),
                                                                                         Feedback(7, "down")]
    assert {"type": "uri", "label": "📞 市役所に電話", "uri": "tel:0177341111"} in actions
    assert messages[0]["altText"] == SNOW_ANSWER.lead


def test_siblings_are_quick_replies_with_short_names_that_ask_about_them() -> None:
    items = _sent(SNOW_ANSWER)[-1]["quickReply"]["items"]
    assert [i["action"]["label"] for i in items] == ["災害に強い都市基盤", "空き家対策"]
    assert parse_postback(items[0]["action"]["data"]) == Ask("3.2.1")
    assert all(utf16_units(i["action"]["label"]) <= MAX_LABEL_UNITS for i in items)


def test_the_scope_note_shows_only_when_it_is_due() -> None:
    without = json.dumps(_sent(SNOW_ANSWER), ensure_ascii=False)
    with_note = json.dumps(_sent(SNOW_ANSWER, show_note=True), ensure_ascii=False)
    assert "基本計画" not in without and "基本計画" in with_note


def test_no_citizen_ever_sees_an_internal_id() -> None:
    sections = Citation("viewpoints", "基本視点", "基本視点")
    answers = [SNOW_ANSWER, CLARIFY, REFUSAL,
               Answer("基本視点は？", "x", True, (sections,), lead="青森市は、4つの視点（仮）を置くことにしています。",
                      points=(Point("(仮) 未来をひらく若者の希望があふれるまち", "viewpoints", None, "item"),),
                      scope="titles_only", contact=CITY)]
    for answer in answers:
        messages = _sent(answer, show_note=True)
        shown = flex.visible_texts(messages) + list(render_answer(answer, TITLES, 7).texts)
        assert not [s for s in shown if ID.search(s)], shown


CLARIFY = Answer("雪のこと", "次のどれについてですか？\n1. …", True, kind="clarify", lead="次のどれについてですか？",
                 candidates=(SNOW, DISASTER, VACANT), scope="titles_only", contact=CITY)


def test_a_clarify_is_a_bubble_with_three_numbered_options_and_the_number_hint() -> None:
    bubble = _bubble(_sent(CLARIFY))
    options = [a for a in _actions(bubble) if a["type"] == "postback" and a["data"].startswith("a=ask")]
    assert [a["label"] for a in options] == ["1. 雪対策を効果的・効率的に進める",
                                             "2. 人口減少に合わせ、災害に強い都市基盤を整える",
                                             "3. 空き家などへの対策を進める"]
    assert [parse_postback(a["data"]) for a in options] == [Ask("3.2.2"), Ask("3.2.1"), Ask("3.2.3")]
    texts = [c.get("text") for c in bubble["body"]["contents"] if c["type"] == "text"]
    assert "番号（1〜3）を送っても選べます。" in texts
    assert any(a["type"] == "uri" and a["uri"].startswith("tel:") for a in _actions(bubble))
    assert any(a.get("data", "").startswith("a=fb") for a in _actions(bubble))  # clarifies can be rated too


REFUSAL = Answer("ゴミの分別は？", "ご質問の内容は、青森市総合計画には記載がありません。", False, kind="out_of_scope",
                 lead="ご質問の内容は、青森市総合計画には記載がありません。", candidates=(VACANT,),
                 scope="outside_plan", contact=Contact("生活環境課", "017-000-0000", "", "3.5.2"))


def test_a_refusal_offers_the_nearest_topic_the_department_by_phone_and_thumbs() -> None:
    bubble = _bubble(_sent(REFUSAL))
    actions = _actions(bubble)
    assert any(a["label"] == "空き家などへの対策を進める" and parse_postback(a["data"]) == Ask("3.2.3")
               for a in actions if a["type"] == "postback")
    assert {"type": "uri", "label": "📞 担当課に電話", "uri": "tel:0170000000"} in actions
    assert "header" not in bubble


def test_a_greeting_offers_three_example_questions_that_send_themselves() -> None:
    hello = Answer("こんにちは", "こんにちは。…", False, kind="out_of_scope", lead="こんにちは。気軽に聞いてください。",
                   related=("冬の除雪について教えて", "子育て支援はどうなるの？", "商店街を元気にする計画は？"),
                   scope="greeting", contact=CITY)
    actions = _actions(_bubble(_sent(hello)))
    assert [a["text"] for a in actions if a["type"] == "message"] == list(hello.related)


def test_an_english_answer_is_english_with_the_japanese_title_once_in_brackets() -> None:
    english = Answer("What about snow?", "Aomori City plans to carry out snow measures effectively and efficiently.",
                     True, (SNOW,), lead="Aomori City plans to carry out snow measures effectively and efficiently.",
                     points=SIBLINGS, scope="titles_only", contact=CITY)
    messages = _sent(english, show_note=True)
    shown = "".join(flex.visible_texts(messages))
    japanese = len(re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]", shown))
    letters = len(re.findall(r"[A-Za-z\u3040-\u30ff\u4e00-\u9fff]", shown))
    assert japanese / letters <= 0.3
    bubble = _bubble(messages)
    assert bubble["header"]["contents"][0]["text"] == "Snow measures (雪対策)"
    assert shown.count("雪対策") == 1
    assert [i["action"]["label"] for i in messages[-1]["quickReply"]["items"]] == ["Disaster resilience",
                                                                                 "Vacant houses"]
    assert any(a["label"] == "👍 Helpful" for a in _actions(bubble))


def test_a_structure_list_shows_three_members_and_says_how_many_more() -> None:
    members = tuple(Point(f"政策{n}", f"3.{n}", None, "child") for n in range(1, 7))
    answer = Answer("柱3の政策は？", "…", True, (Citation("3", "まちをデザインする", "まちをデザインする"),),
                    kind="structure", lead="柱3「まちをデザインする」の政策は次のとおりです。", points=members,
                    scope="structure", contact=CITY)
    messages = _sent(answer)
    body = _bubble(messages)["body"]["contents"]
    rows = [c for c in body if c["type"] == "box"]
    assert [r["contents"][1]["text"] for r in rows] == ["コンパクト・プラス・ネットワークのまちづくり",
                                                       "災害の防止と雪対策を充実させる",
                                                       "街の景観と住まいの環境を充実させる"]
    assert body[-1]["text"] == "ほか3つ"
    assert [i["action"]["label"] for i in messages[-1]["quickReply"]["items"]] == ["交通環境の充実", "自然と生活環境",
                                                                                 "脱炭素・循環型社会"]


def test_the_plain_fallback_carries_the_same_answer_without_ids() -> None:
    reply = render_answer(SNOW_ANSWER, TITLES, 7, show_note=True)
    text = "\n".join(reply.texts)
    assert text.startswith("雪対策\n青森市は、雪対策を効果的・効率的に進めることにしています。")
    assert "017-734-1111" in text and "基本計画" in text
    assert "📖 出典：まちをデザインする › 防災・雪対策 › 雪対策" in text
    assert not ID.search(text)
    plain = [m.to_dict() for m in to_line_messages(reply, plain=True)]
    assert [m["type"] for m in plain] == ["text"] and plain[0]["quickReply"]["items"]


def test_a_bubble_the_sdk_would_not_round_trip_is_refused_before_sending() -> None:
    good = flex.bubble("見出し", [flex.text("本文")], [])
    assert flex.validated("本文", good) is not None
    with pytest.raises(flex.FlexError, match="property"):
        flex.validated("本文", {**good, "body": {**good["body"], "bogus": 1}})
    with pytest.raises(flex.FlexError, match="empty"):
        flex.validated("本文", flex.bubble("", [flex.text("")], []))
    with pytest.raises(flex.FlexError, match="altText"):
        flex.validated("あ" * 401, good)
    with pytest.raises(flex.FlexError, match="bytes"):
        flex.validated("本文", flex.bubble("", [flex.text("あ" * 2000) for _ in range(10)], []))
    with pytest.raises(flex.FlexError, match="label"):
        flex.validated("本文", flex.bubble("", [flex.button(flex.message("あ" * 41, "q"))], []))


def test_an_over_long_answer_falls_back_to_plain_text_when_no_bubble_can_hold_it() -> None:
    huge = Answer("q", "x", True, (SNOW,), lead="雪" * 40_000, scope="titles_only", contact=CITY)
    reply = render_answer(huge, TITLES, 7)
    assert reply.bubble is None and 1 <= len(reply.texts) <= MAX_MESSAGES
    assert all(utf16_units(t) <= MAX_TEXT_UNITS for t in reply.texts)


def test_markdown_is_neutralised() -> None:
    text = "# 見出し\n\n**除雪**は`重要`です。\n- 一つ目\n* 二つ目\n> 引用\n\n[市のページ](https://www.city.aomori.aomori.jp/)"
    plain = plain_text(text)
    for marker in ("**", "#", "`", "](", "> "):
        assert marker not in plain
    assert "除雪は重要です。" in plain
    assert "・一つ目" in plain and "・二つ目" in plain
    assert "市のページ（https://www.city.aomori.aomori.jp/）" in plain


def test_utf16_units_and_splitting_never_break_an_emoji() -> None:
    assert (utf16_units("雪"), utf16_units("😀"), utf16_units("a😀b")) == (1, 2, 4)
    chunks = split_text("😀" * 6000, MAX_TEXT_UNITS)
    assert "".join(chunks) == "😀" * 6000
    assert [utf16_units(c) for c in chunks] == [5000, 5000, 2000]


def test_quick_replies_are_capped_deduplicated_and_short() -> None:
    questions = ["同じ質問"] * 3 + [f"とても長い関連する質問の文章その{i}番目について教えてください" for i in range(20)]
    buttons = quick_buttons(questions)
    assert len(buttons) == 13 and [b.text for b in buttons].count("同じ質問") == 1
    assert all(len(b.label) <= MAX_LABEL_UNITS for b in buttons) and buttons[1].label.endswith("…")


def test_follow_greeting_and_text_please() -> None:
    text = greeting("青森市役所（代表 017-734-1111）").texts[0]
    assert "青森市役所（代表 017-734-1111）" in text and "個人情報" in text and "総合計画" in text
    assert "文章で送ってください" in text_please().texts[0]


def test_mentions_are_stripped_by_utf16_offsets() -> None:
    assert strip_mentions("@planbot 除雪は？", [(0, 8)]) == "除雪は？"
    assert strip_mentions("😀@planbot 除雪は？", [(2, 8)]) == "😀 除雪は？"
    assert strip_mentions("除雪は？ @planbot", [(5, 8)]) == "除雪は？"
