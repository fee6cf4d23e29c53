"""Conversations as a citizen has them on LINE, end to end: signed webhooks into the real app (real uvicorn, real
core, a fresh SQLite log), answered to the fake LINE API, which validates every Flex bubble as LINE does.

An answer; a clarify answered with 「2」; 👎 then a new question (answered, not swallowed as a note); a note the
citizen chose to write; 「こんにちは」; an English question; a refusal; an event without quoteToken; a bubble LINE
refuses (the plain-text fallback goes out instead)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from adapters.app import create_app
from adapters.line import LineChannel
from adapters.line.flex import visible_texts
from adapters.line.postback import Ask, Feedback, Reason, WriteNote, parse_postback
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.models import AnswerRecord, FeedbackRecord
from tests.fakes.line_api import FakeLineApi, LineCall
from tests.servers.app import LiveApp, live_app, wait_until
from tests.test_line_feedback import postback_event
from tests.test_line_webhook import fake_line, line_settings, post, text_event

__all__ = ["fake_line", "line_settings"]  # fixtures shared with test_line_webhook
ID = re.compile(r"(?<![0-9.\-])\d\.\d(\.\d)?(?![0-9])")
KANA_KANJI = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff]")
LETTERS = re.compile(r"[A-Za-z\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff]")


@pytest.fixture()
def live(line_settings: Settings, planbot: PlanBot) -> Iterator[LiveApp]:
    with live_app(create_app(line_settings, planbot=planbot, channels=[LineChannel(line_settings)])) as running:
        yield running


def _reply(fake: FakeLineApi, live: LiveApp, events: list[dict[str, Any]]) -> LineCall:
    """Post the events and wait for the next delivered reply."""
    before = len(fake.of("reply"))
    assert post(live, events).status_code == 200
    wait_until(lambda: len(fake.of("reply")) > before, timeout_s=30)
    return fake.of("reply")[before]


def _bubble(call: LineCall) -> dict[str, Any]:
    assert call.messages[-1]["type"] == "flex", call.messages
    return dict(call.messages[-1]["contents"])


def _actions(call: LineCall) -> list[dict[str, Any]]:
    return call.actions


def _postbacks(call: LineCall) -> list[Any]:
    return [parse_postback(a["data"]) for a in _actions(call) if a["type"] == "postback"]


def _answers(live: LiveApp) -> list[AnswerRecord]:
    with live.services.database.session() as session:
        return list(session.scalars(select(AnswerRecord).order_by(AnswerRecord.id)).all())


def test_an_answer_is_a_bubble_without_ids_and_the_scope_note_comes_once_a_day(
        live: LiveApp, fake_line: FakeLineApi) -> None:
    first = _reply(fake_line, live, [text_event("冬の除雪はどうなる？")])
    bubble = _bubble(first)
    assert bubble["header"]["contents"][0]["text"] == "雪対策"
    shown = visible_texts(first.messages)
    assert not [s for s in shown if ID.search(s)], shown
    assert sum(len(s) for s in shown) <= 300
    assert any("基本計画" in s for s in shown)  # the 体系図-only note, the first time today
    assert [p.value for p in _postbacks(first) if isinstance(p, Feedback)] == ["up", "down"]
    assert any(a["type"] == "uri" and a["uri"] == "tel:0177341111" for a in _actions(first))
    assert _answers(live)[0].citations[0]["id"] == "3.2.2"

    second = _reply(fake_line, live, [text_event("空き家が増えて心配")])
    assert not any("基本計画" in s for s in visible_texts(second.messages))  # not again today
    row = _answers(live)[1]
    assert row.rendered == {"line": second.messages}


def test_a_clarify_answered_with_2_answers_option_2(live: LiveApp, fake_line: FakeLineApi) -> None:
    clarify = _reply(fake_line, live, [text_event("交通")])
    options = [p for p in _postbacks(clarify) if isinstance(p, Ask)]
    assert len(options) == 3
    assert any("番号" in s for s in visible_texts(clarify.messages))
    picked = _reply(fake_line, live, [text_event("2")])
    rows = _answers(live)
    assert rows[0].kind == "clarify" and rows[1].kind == "plan"
    assert rows[1].citations[0]["id"] == options[1].node_id == rows[0].candidates[1]["id"]
    assert _bubble(picked)["header"]["contents"][0]["text"]

    _reply(fake_line, live, [text_event("交通")])
    _reply(fake_line, live, [text_event("「二つ目」")])
    assert _answers(live)[3].citations[0]["id"] == options[1].node_id
    # Once answered, the options are gone: a bare number is a new message again.
    _reply(fake_line, live, [text_event("１")])
    assert _answers(live)[4].kind != "plan"


def test_thumbs_down_then_a_question_is_answered_not_swallowed(live: LiveApp, fake_line: FakeLineApi) -> None:
    answer = _reply(fake_line, live, [text_event("冬の除雪はどうなる？")])
    down = next(a["data"] for a in _actions(answer) if parse_postback(a.get("data", "")) ==
                Feedback(_answers(live)[0].id, "down"))
    why = _reply(fake_line, live, [postback_event(down)])
    reasons = [parse_postback(i["action"]["data"]) for i in why.messages[-1]["quickReply"]["items"]]
    assert [type(r).__name__ for r in reasons] == ["Reason"] * 4 + ["WriteNote"]
    assert [i["action"]["type"] for i in why.messages[-1]["quickReply"]["items"]] == ["postback"] * 5

    question = _reply(fake_line, live, [text_event("子育ての支援は？")])
    assert _bubble(question)["header"]["contents"][0]["text"] == "子育て支援"
    rows = _answers(live)
    assert len(rows) == 2 and rows[1].citations[0]["id"] == "2.1.1"
    with live.services.database.session() as session:
        feedback = session.scalars(select(FeedbackRecord)).one()
        assert feedback.value == "down" and feedback.note is None


def test_a_note_is_taken_only_after_the_citizen_chose_to_write_one(live: LiveApp, fake_line: FakeLineApi) -> None:
    _reply(fake_line, live, [text_event("空き家が増えて心配")])
    answer_id = _answers(live)[0].id
    reason = _reply(fake_line, live, [postback_event(f"a=why&r=not_enough&id={answer_id}")])
    assert isinstance(parse_postback(reason.messages[-1]["quickReply"]["items"][0]["action"]["data"]), WriteNote)
    ask_note = _reply(fake_line, live, [postback_event(f"a=note&id={answer_id}")])
    assert "文章で送ってください" in ask_note.texts[0]
    thanks = _reply(fake_line, live, [text_event("解体の補助があるか知りたかった。電話は090-1234-5678")])
    assert "ありがとうございます" in thanks.texts[0] and len(thanks.messages) == 1
    with live.services.database.session() as session:
        feedback = session.scalars(select(FeedbackRecord)).one()
        assert (feedback.reason, feedback.value) == ("not_enough", "down")
        assert feedback.note is not None and "解体" in feedback.note and "090-1234-5678" not in feedback.note
    assert len(_answers(live)) == 1

    # A note that reads as a plan question is kept and answered too.
    _reply(fake_line, live, [postback_event(f"a=note&id={answer_id}")])
    both = _reply(fake_line, live, [text_event("冬の除雪はどうなる？")])
    assert both.messages[0]["type"] == "text" and "ありがとうございます" in both.messages[0]["text"]
    assert _bubble(both)["header"]["contents"][0]["text"] == "雪対策"
    assert _answers(live)[1].citations[0]["id"] == "3.2.2"


def test_hello_gets_a_friendly_reply_with_three_example_questions(live: LiveApp, fake_line: FakeLineApi) -> None:
    hello = _reply(fake_line, live, [text_event("こんにちは")])
    examples = [a for a in _actions(hello) if a["type"] == "message"]
    assert len(examples) == 3 and all(a["text"] for a in examples)
    assert not any("記載がありません" in s for s in visible_texts(hello.messages))
    assert [p.value for p in _postbacks(hello) if isinstance(p, Feedback)] == ["up", "down"]
    assert any(a["type"] == "uri" for a in _actions(hello))
    row = _answers(live)[0]
    assert (row.kind, row.answerable) == ("out_of_scope", False)
    # An example question, tapped, is answered.
    _reply(fake_line, live, [text_event(examples[0]["text"])])
    assert _answers(live)[1].kind == "plan"
    # A greeting that opens a question does not hide the question.
    _reply(fake_line, live, [text_event("Hello! What will the city do about empty houses?")])
    assert _answers(live)[2].citations[0]["id"] == "3.2.3"


def test_an_english_question_gets_an_english_bubble(live: LiveApp, fake_line: FakeLineApi) -> None:
    reply = _reply(fake_line, live, [text_event("What does the plan say about snow removal?")])
    shown = "".join(visible_texts(reply.messages))
    assert len(KANA_KANJI.findall(shown)) <= 0.3 * len(LETTERS.findall(shown))
    assert _bubble(reply)["header"]["contents"][0]["text"] == "Snow measures (雪対策)"
    assert "👍 Helpful" in shown and "Aomori City plans to" in shown
    down = next(a["data"] for a in _actions(reply) if "v=down" in a.get("data", ""))
    why = _reply(fake_line, live, [postback_event(down)])
    assert why.texts[0].startswith("Thank you") and why.messages[-1]["quickReply"]["items"][0]["action"][
        "label"] == "Wrong measure"
    assert isinstance(parse_postback(why.messages[-1]["quickReply"]["items"][0]["action"]["data"]), Reason)


def test_a_refusal_offers_examples_the_contact_and_thumbs(live: LiveApp, fake_line: FakeLineApi) -> None:
    refusal = _reply(fake_line, live, [text_event("明日の天気は？")])
    shown = visible_texts(refusal.messages)
    assert any("記載がありません" in s for s in shown)
    assert any(a["type"] == "uri" and a["uri"].startswith("tel:") for a in _actions(refusal))
    assert [p.value for p in _postbacks(refusal) if isinstance(p, Feedback)] == ["up", "down"]
    assert [a for a in _actions(refusal) if a["type"] == "message"]  # something to ask instead


def test_an_event_without_quote_token_is_answered(live: LiveApp, fake_line: FakeLineApi) -> None:
    event = text_event("冬の除雪はどうなる？")
    del event["message"]["quoteToken"]
    reply = _reply(fake_line, live, [event])
    assert _bubble(reply)["header"]["contents"][0]["text"] == "雪対策"


def test_a_bubble_line_refuses_is_sent_again_as_plain_text(live: LiveApp, fake_line: FakeLineApi) -> None:
    fake_line.reject_flex(1)
    event = text_event("冬の除雪はどうなる？")
    reply = _reply(fake_line, live, [event])
    attempts = [c for c in fake_line.of("reply", delivered_only=False) if c.body["replyToken"] == event["replyToken"]]
    assert [c.status for c in attempts] == [400, 200]
    assert attempts[0].messages[-1]["type"] == "flex"
    assert [m["type"] for m in reply.messages] == ["text"]
    assert reply.texts[0].startswith("雪対策\n青森市は、雪対策を効果的・効率的に進めることにしています。")
    assert not ID.search(reply.texts[0]) and reply.messages[-1].get("quickReply")
    assert fake_line.of("push") == []
