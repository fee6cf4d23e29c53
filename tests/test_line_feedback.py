"""Citizens rate answers on LINE, end to end: a signed question → the answer with 👍/👎 postbacks → 👎 →
reason buttons → reason → "write a note" → a free-text note, stored with the answer and shown on the review page.
Postbacks are signed webhook events like any other: stored first, deduplicated, answered once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from adapters.app import create_app
from adapters.line import LineChannel
from adapters.line.postback import Feedback, parse_postback
from adapters.review import ReviewChannel
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.models import AnswerRecord, FeedbackRecord
from tests.fakes.line_api import FakeLineApi, LineCall
from tests.review_helpers import add_reviewer, signed_in
from tests.servers.app import LiveApp, live_app, wait_until
from tests.test_line_webhook import USER, fake_line, line_settings, post, text_event

__all__ = ["fake_line", "line_settings"]  # fixtures shared with test_line_webhook


@pytest.fixture()
def live(line_settings: Settings, planbot: PlanBot) -> Iterator[LiveApp]:
    app = create_app(line_settings, planbot=planbot, channels=[LineChannel(line_settings), ReviewChannel()])
    with live_app(app) as running:
        add_reviewer(running)
        yield running


def postback_event(data: str, event_id: str | None = None) -> dict[str, Any]:
    """A 1:1 postback event as LINE sends it when a postback quick reply is tapped."""
    return {"type": "postback", "mode": "active", "timestamp": int(time.time() * 1000),
            "webhookEventId": event_id or uuid.uuid4().hex.upper(), "deliveryContext": {"isRedelivery": False},
            "replyToken": uuid.uuid4().hex, "source": {"type": "user", "userId": USER},
            "postback": {"data": data}}


def _actions(call: LineCall) -> list[dict[str, Any]]:
    """The bubble's button actions, then the quick replies' (on the last message)."""
    return call.actions


def votes(actions: list[dict[str, Any]]) -> dict[str, str]:
    """The 👍/👎 postback data among the buttons, by vote."""
    found = {}
    for action in actions:
        parsed = parse_postback(action.get("data", ""))
        if isinstance(parsed, Feedback):
            found[parsed.value] = action["data"]
    return found


def _replies(fake: FakeLineApi, count: int) -> list[Any]:
    wait_until(lambda: len(fake.of("reply")) >= count, timeout_s=30)
    return fake.of("reply")


def test_thumbs_down_reason_and_note_reach_the_review_page(live: LiveApp, fake_line: FakeLineApi) -> None:
    assert post(live, [text_event("冬の除雪はどうなる？")]).status_code == 200
    answer = _replies(fake_line, 1)[0]
    actions = _actions(answer)
    assert len(actions) <= 13
    down = votes(actions)["down"]
    with live.services.database.session() as session:
        row = session.scalars(select(AnswerRecord)).one()
        answer_id = row.id
        assert row.rendered == {"line": answer.body["messages"]}  # kept exactly as sent

    tap = postback_event(down)
    assert post(live, [tap]).status_code == 200
    assert post(live, [tap]).status_code == 200  # redelivered: stored once, answered once
    why = _replies(fake_line, 2)[1]
    reasons = _actions(why)
    assert [a["label"] for a in reasons] == ["違う施策", "情報が足りない", "分かりにくい", "その他", "✏️ 文章で伝える"]

    assert post(live, [postback_event(reasons[1]["data"])]).status_code == 200
    thanked = _replies(fake_line, 3)[2]
    write = _actions(thanked)
    assert [a["label"] for a in write] == ["✏️ 文章で伝える"]
    assert post(live, [postback_event(write[0]["data"])]).status_code == 200
    ask_note = _replies(fake_line, 4)[3]
    assert "文章で送ってください" in ask_note.texts[0]

    note = text_event("除雪の日程が知りたかった。電話は090-1234-5678です")
    assert post(live, [note]).status_code == 200
    thanks = _replies(fake_line, 5)[4]
    assert "ありがとうございます" in thanks.texts[0]
    wait_until(lambda: live.services.inbox.counts().get("done", 0) == 5, timeout_s=30)
    assert len(fake_line.of("reply")) == 5  # the duplicate postback got no second reply

    with live.services.database.session() as session:
        feedback = session.scalars(select(FeedbackRecord)).one()
        assert (feedback.answer_id, feedback.value, feedback.reason) == (answer_id, "down", "not_enough")
        assert feedback.note is not None and "除雪の日程" in feedback.note and "090-1234-5678" not in feedback.note
        assert session.scalar(select(AnswerRecord.feedback_down).where(AnswerRecord.id == answer_id)) == 1
        assert len(session.scalars(select(AnswerRecord)).all()) == 1  # the note was not asked as a question

    with signed_in(live) as (client, _):
        page = client.get(f"/review/answers/{answer_id}").text
        assert "情報が足りない" in page and "除雪の日程が知りたかった" in page
        listed = client.get("/review", params={"down": "1"}).text
        assert f"/review/answers/{answer_id}" in listed

    # After the note, the next message is a question again.
    assert post(live, [text_event("子育ての支援は？")]).status_code == 200
    _replies(fake_line, 6)
    with live.services.database.session() as session:
        assert len(session.scalars(select(AnswerRecord)).all()) == 2


def test_thumbs_up_is_thanked_and_latest_vote_wins(live: LiveApp, fake_line: FakeLineApi) -> None:
    assert post(live, [text_event("空き家が増えて心配")]).status_code == 200
    actions = _actions(_replies(fake_line, 1)[0])
    assert post(live, [postback_event(votes(actions)["down"])]).status_code == 200
    _replies(fake_line, 2)
    assert post(live, [postback_event(votes(actions)["up"])]).status_code == 200
    assert "ありがとうございます" in _replies(fake_line, 3)[2].texts[0]
    with live.services.database.session() as session:
        feedback = session.scalars(select(FeedbackRecord)).one()
        assert feedback.value == "up" and feedback.note_open_until is None
    # No note was asked for: the next text is answered as a question.
    assert post(live, [text_event("子育ての支援は？")]).status_code == 200
    _replies(fake_line, 4)
    with live.services.database.session() as session:
        assert len(session.scalars(select(AnswerRecord)).all()) == 2


def test_refusal_contact_button_replies_with_the_city(live: LiveApp, fake_line: FakeLineApi) -> None:
    assert post(live, [postback_event("a=contact&n=3.2.2")]).status_code == 200
    reply = _replies(fake_line, 1)[0]
    assert "017-734-1111" in reply.texts[0] and "お問い合わせ先" in reply.texts[0]
    assert post(live, [postback_event("a=fb&v=up&id=999999")]).status_code == 200
    assert "もう一度" in _replies(fake_line, 2)[1].texts[0]  # a vote on an unknown answer is not stored
