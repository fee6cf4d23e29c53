"""LINE rendering: plain text, the 5000-unit / 5-message limits, citations, quick replies, fixed texts."""

from __future__ import annotations

from adapters.line.client import to_line_messages
from adapters.line.render import (
    MAX_LABEL_UNITS,
    MAX_MESSAGES,
    MAX_QUICK_REPLIES,
    MAX_QUICK_TEXT_UNITS,
    MAX_TEXT_UNITS,
    greeting,
    plain_text,
    quick_buttons,
    render_answer,
    split_text,
    strip_mentions,
    text_please,
    utf16_units,
)
from bot.types import Answer, Citation

SNOW = Citation("3.2.2", "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進",
                "効果的・効率的な雪対策の推進")


def _within_limits(texts: tuple[str, ...]) -> None:
    assert 1 <= len(texts) <= MAX_MESSAGES
    for text in texts:
        assert 1 <= utf16_units(text) <= MAX_TEXT_UNITS


def test_utf16_units_count_emoji_as_two() -> None:
    assert utf16_units("雪") == 1
    assert utf16_units("⛄") == 1  # in the BMP
    assert utf16_units("😀") == 2
    assert utf16_units("a😀b") == 4


def test_markdown_is_neutralised() -> None:
    text = "# 見出し\n\n**除雪**は`重要`です。\n- 一つ目\n* 二つ目\n> 引用\n\n[市のページ](https://www.city.aomori.aomori.jp/)"
    plain = plain_text(text)
    for marker in ("**", "#", "`", "](", "> "):
        assert marker not in plain
    assert "除雪は重要です。" in plain
    assert "・一つ目" in plain and "・二つ目" in plain
    assert "市のページ（https://www.city.aomori.aomori.jp/）" in plain
    assert plain_text("※ 指標は含まれていません") == "※ 指標は含まれていません"


def test_answer_with_citations_and_related_renders_one_message() -> None:
    answer = Answer("冬の除雪はどうなる？", "**雪対策**の推進が位置づけられています。", True, (SNOW,),
                    related=("克雪・利雪の取組は？", "除雪の担い手は？"))
    reply = render_answer(answer)
    _within_limits(reply.texts)
    assert len(reply.texts) == 1
    text = reply.texts[0]
    assert text.startswith("雪対策の推進が位置づけられています。")
    assert "出典" in text and "・3.2.2 まちをデザインする › 政策2" in text
    assert [b.text for b in reply.quick] == list(answer.related)


def test_long_answer_is_split_within_limits_and_keeps_its_citations() -> None:
    paragraph = "雪対策の推進について計画に記載があります。" * 40 + "😀"
    long_text = "\n\n".join(f"{i}. {paragraph}" for i in range(60))
    reply = render_answer(Answer("除雪", long_text, True, (SNOW,)))
    _within_limits(reply.texts)
    assert len(reply.texts) == MAX_MESSAGES
    assert "省略しました" in reply.texts[-2]
    assert "3.2.2" in reply.texts[-1]
    assert reply.texts[0].startswith("0. 雪対策")  # paragraphs are kept whole where they fit


def test_answer_that_fits_in_three_messages_is_not_truncated() -> None:
    paragraph = "あ" * 2000
    reply = render_answer(Answer("q", "\n\n".join([paragraph] * 5), True, (SNOW,)))
    _within_limits(reply.texts)
    assert sum(t.count("あ") for t in reply.texts) == 10_000
    assert not any("省略" in t for t in reply.texts)
    assert all(not t.startswith("\n") for t in reply.texts)


def test_hard_split_never_breaks_an_emoji() -> None:
    chunks = split_text("😀" * 6000, MAX_TEXT_UNITS)
    assert "".join(chunks) == "😀" * 6000
    assert all(utf16_units(c) <= MAX_TEXT_UNITS for c in chunks)
    assert [utf16_units(c) for c in chunks] == [5000, 5000, 2000]


def test_quick_replies_are_capped_deduplicated_and_short() -> None:
    long = [f"とても長い関連する質問の文章その{i}番目についてもっと教えてください" for i in range(20)]
    questions = ["同じ質問"] * 3 + long
    questions.append("x" * 400)
    buttons = quick_buttons(questions)
    assert len(buttons) == MAX_QUICK_REPLIES
    assert [b.text for b in buttons].count("同じ質問") == 1
    assert all(len(b.label) <= MAX_LABEL_UNITS and utf16_units(b.text) <= MAX_QUICK_TEXT_UNITS for b in buttons)
    assert buttons[1].label.endswith("…")
    assert utf16_units(quick_buttons(["y" * 400])[0].text) == MAX_QUICK_TEXT_UNITS


def test_sdk_messages_carry_quick_replies_on_the_last_text_only() -> None:
    reply = render_answer(Answer("q", "\n\n".join(["い" * 4000] * 2), True, (SNOW,), related=("除雪は？",)))
    messages = to_line_messages(reply)
    assert len(messages) == 2
    assert messages[0].quick_reply is None
    assert messages[-1].quick_reply.items[0].action.text == "除雪は？"
    assert messages[-1].to_dict()["quickReply"]["items"][0]["action"]["label"] == "除雪は？"


def test_greeting_has_the_disclaimer_and_the_city_contact() -> None:
    reply = greeting("青森市役所（代表 017-734-1111）")
    text = reply.texts[0]
    assert "青森市役所（代表 017-734-1111）" in text
    assert "公式な見解" in text and "個人情報" in text and "総合計画" in text
    assert reply.quick


def test_text_please_asks_for_text() -> None:
    reply = text_please()
    assert "文章で送ってください" in reply.texts[0]


def test_mentions_are_stripped_by_utf16_offsets() -> None:
    assert strip_mentions("@planbot 除雪は？", [(0, 8)]) == "除雪は？"
    # an emoji before the mention shifts UTF-16 offsets by one more than code points
    assert strip_mentions("😀@planbot 除雪は？", [(2, 8)]) == "😀 除雪は？"
    assert strip_mentions("除雪は？ @planbot", [(5, 8)]) == "除雪は？"
