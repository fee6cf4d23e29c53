"""Block Kit rendering: limits, citations, buttons and defused mentions (pure functions, no I/O)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.blocks import (
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_SHARE,
    FEEDBACK_VIEW,
    MAX_BLOCKS,
    SECTION_LIMIT,
    AnswerView,
    answer_blocks,
    defuse,
    fallback_text,
    feedback_modal,
    modal_answer_id,
    parse_answer_id,
    slack_to_plain,
    split_sections,
)

SNOW = AnswerView(
    "青森市総合計画では、次のように位置づけられています。\n\n■ 施策② 効果的・効率的な雪対策の推進",
    (("3.2.2", "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進"),
     ("3.2.1", "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策① 災害に強いまちづくり")),
    answer_id=41,
)
BROADCASTS = ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S0TEAM|@planners>", "@channel", "@here",
              "@everyone", "@Channel", "<@U0SOMEONE>"]


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every mrkdwn/plain text string in the blocks."""
    found: list[str] = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found.extend(e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str))
    return found


def assert_no_pings(text: str) -> None:
    """Nothing in `text` would notify a channel, a group or a user."""
    assert "<!" not in text and "<@U0SOMEONE>" not in text
    for word in ("@channel", "@here", "@everyone"):
        assert word not in text.lower()


def test_defuse_neutralises_every_broadcast_form() -> None:
    for raw in BROADCASTS:
        safe = defuse(f"質問です {raw} よろしく")
        assert_no_pings(safe)
        assert "質問です" in safe
    assert defuse("a & b <c>") == "a &amp; b &lt;c&gt;"


def test_slack_to_plain_strips_mentions_and_unescapes() -> None:
    raw = "<@UPLANBOT> 冬の除雪は &amp; <https://city.example/snow|除雪計画> どう？ <!here>"
    assert slack_to_plain(raw) == "冬の除雪は & 除雪計画 どう？"
    assert slack_to_plain("<@UPLANBOT>") == ""


def test_answer_blocks_have_sections_citations_and_feedback_buttons() -> None:
    blocks = answer_blocks(SNOW)
    assert [b["type"] for b in blocks] == ["section", "context", "actions"]
    assert "雪対策" in blocks[0]["text"]["text"]
    cited = [e["text"] for e in blocks[1]["elements"]]
    assert cited[0] == "*出典*"
    assert cited[1].startswith("3.2.2 まちをデザインする › 政策2")
    buttons = blocks[2]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(ACTION_FEEDBACK_UP, "41"),
                                                              (ACTION_FEEDBACK_DOWN, "41")]


def test_shareable_answer_echoes_the_question_safely_and_offers_sharing() -> None:
    view = AnswerView(SNOW.text, SNOW.citations, 7, question="<!channel> 除雪は？ @here")
    blocks = answer_blocks(view, shareable=True)
    assert "除雪は？" in blocks[0]["text"]["text"]
    for text in texts(blocks):
        assert_no_pings(text)
    assert [b["action_id"] for b in blocks[-1]["elements"]] == [ACTION_FEEDBACK_UP, ACTION_FEEDBACK_DOWN,
                                                                 ACTION_SHARE]


def test_shared_answer_names_the_sharer_and_english_answers_get_english_labels() -> None:
    view = AnswerView("Here is what Aomori City's comprehensive plan says on this: snow.", SNOW.citations, 3)
    blocks = answer_blocks(view, shared_by="U0STAFF")
    assert blocks[0]["elements"][0]["text"] == "<@U0STAFF> shared:"
    assert "*Sources*" in texts(blocks)


def test_no_buttons_without_an_answer_id_and_no_context_without_citations() -> None:
    blocks = answer_blocks(AnswerView("ご質問の内容は、青森市総合計画には記載がありません。"))
    assert [b["type"] for b in blocks] == ["section"]


def test_long_answers_are_split_under_the_section_limit_and_capped_at_50_blocks() -> None:
    paragraph = "雪" * 2500
    text = "\n\n".join([paragraph] * 80)
    blocks = answer_blocks(AnswerView(text, SNOW.citations, 1, question="長い？"))
    assert len(blocks) == MAX_BLOCKS
    assert blocks[-1]["type"] == "actions" and blocks[-2]["type"] == "context"
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in blocks if b["type"] == "section")
    assert blocks[-3]["text"]["text"].endswith("…")


def test_split_sections_keeps_every_line() -> None:
    lines = [f"{i}行目" + "あ" * 700 for i in range(12)]
    chunks = split_sections("\n".join(lines))
    assert all(len(c) <= SECTION_LIMIT for c in chunks) and len(chunks) > 1
    assert "\n".join(chunks) == "\n".join(lines)
    one_long_line = "い" * 7001
    assert "".join(split_sections(one_long_line)) == one_long_line


def test_fallback_text_is_set_defused_and_bounded() -> None:
    text = fallback_text(AnswerView("<!everyone> " + "あ" * 5000, SNOW.citations, 1))
    assert text and len(text) <= 3000
    assert_no_pings(text)
    assert "3.2.2" in fallback_text(SNOW)


def test_feedback_modal_carries_the_answer_id() -> None:
    modal = feedback_modal(41, "C0PLANNING", "1700000000.000100")
    assert modal["callback_id"] == FEEDBACK_VIEW and modal["type"] == "modal"
    assert len(modal["title"]["text"]) <= 24
    assert modal_answer_id(modal["private_metadata"]) == 41
    assert modal_answer_id("not json") is None and modal_answer_id(json.dumps({"answer_id": "x"})) is None


def test_parse_answer_id_accepts_only_positive_integers() -> None:
    assert parse_answer_id("12") == 12 and parse_answer_id(5) == 5
    for bad in ("", "0", "-1", "1e3", "１２", "9" * 30, None, 0, 1.5):
        assert parse_answer_id(bad) is None


@settings(max_examples=150, deadline=None)
@given(body=st.text(max_size=9000), question=st.text(max_size=300), answer_id=st.integers(1, 10**9),
       cites=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=200)), max_size=15))
def test_any_answer_renders_within_slack_limits_and_never_pings(body: str, question: str, answer_id: int,
                                                                cites: list[tuple[str, str]]) -> None:
    view = AnswerView(body + " <!channel> @here", tuple(cites), answer_id, question=question + "<!everyone>")
    blocks = answer_blocks(view, shareable=True)
    assert 1 <= len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= SECTION_LIMIT
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
    for text in [*texts(blocks), fallback_text(view)]:
        assert "<!" not in text and "@here" not in text and "@channel" not in text and "@everyone" not in text
