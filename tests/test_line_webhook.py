"""The LINE webhook under a real uvicorn, answered by the real core, delivered to a fake LINE API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from adapters.app import create_app
from adapters.line import LineChannel
from adapters.line.handler import push_retry_key
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.models import AnswerRecord, InboxEvent
from tests.fakes.line_api import FakeLineApi
from tests.servers.app import LiveApp, live_app, wait_until

SECRET = "line-channel-secret-for-tests"
TOKEN = "line-access-token-for-tests"
USER = "U4af4980629b0f0c5b1a8d1f7e9b2c3d4"


@pytest.fixture()
def fake_line() -> Iterator[FakeLineApi]:
    """The fake Messaging API on loopback."""
    with FakeLineApi(TOKEN).running() as fake:
        yield fake


@pytest.fixture()
def line_settings(tmp_path: Path, settings: Settings, fake_line: FakeLineApi) -> Settings:
    """LINE configured against the fake; a fresh SQLite log per test."""
    return settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'line.sqlite3'}",
        "line_channel_secret": SecretStr(SECRET),
        "line_channel_access_token": SecretStr(TOKEN),
        "line_api_base_url": fake_line.url,
        "inbox_lease_seconds": 5.0,
    })


def _serve(settings: Settings, planbot: PlanBot) -> Any:
    return live_app(create_app(settings, planbot=planbot, channels=[LineChannel(settings)]))


def sign(body: bytes, secret: str = SECRET) -> str:
    """X-Line-Signature as LINE computes it."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def message_event(message: dict[str, Any], source: dict[str, Any] | None = None, age_s: float = 0.0,
                  event_id: str | None = None, redelivery: bool = False) -> dict[str, Any]:
    """A webhook `message` event as LINE sends it."""
    return {"type": "message", "mode": "active", "timestamp": int((time.time() - age_s) * 1000),
            "webhookEventId": event_id or uuid.uuid4().hex.upper(), "deliveryContext": {"isRedelivery": redelivery},
            "replyToken": uuid.uuid4().hex, "source": source or {"type": "user", "userId": USER},
            "message": {"id": "4680", "quoteToken": "q", **message}}


def text_event(text: str, **kwargs: Any) -> dict[str, Any]:
    """A 1:1 text message event."""
    return message_event({"type": "text", "text": text}, **kwargs)


def post(live: LiveApp, events: list[dict[str, Any]], signature: str | None = "sign") -> httpx.Response:
    """POST a webhook body, signed correctly unless told otherwise."""
    body = json.dumps({"destination": "Ubot", "events": events}, ensure_ascii=False).encode()
    headers = {"content-type": "application/json"}
    if signature == "sign":
        headers["x-line-signature"] = sign(body)
    elif signature is not None:
        headers["x-line-signature"] = signature
    return httpx.post(f"{live.url}/line/webhook", content=body, headers=headers, timeout=10)


def settle(live: LiveApp, count: int) -> None:
    """Wait until `count` events are finished (done or failed for good)."""
    def finished() -> bool:
        counts = live.services.inbox.counts()
        return counts.get("done", 0) + counts.get("failed", 0) == count
    wait_until(finished, timeout_s=30)


def test_signed_question_gets_a_cited_reply_and_the_raw_user_id_is_never_stored(
        line_settings: Settings, planbot: PlanBot, fake_line: FakeLineApi, tmp_path: Path) -> None:
    event = text_event("冬の除雪はどうなる？")
    with _serve(line_settings, planbot) as live:
        response = post(live, [event])
        assert response.status_code == 200
        wait_until(lambda: len(fake_line.of("reply")) == 1, timeout_s=30)
        reply = fake_line.of("reply")[0]
        assert reply.body["replyToken"] == event["replyToken"]
        assert reply.headers["authorization"] == f"Bearer {TOKEN}"
        text = reply.shown
        assert "雪対策" in text and "出典" in text
        assert "3.2.2" not in text  # a citizen never sees an internal id
        assert "**" not in text
        assert [c.body["chatId"] for c in fake_line.of("loading")] == [USER]
        settle(live, 1)
        with live.services.database.session() as session:
            row = session.scalars(select(AnswerRecord)).one()
            assert row.channel == "line" and row.event_key == event["webhookEventId"]
            assert row.citations[0]["id"] == "3.2.2"
            assert row.user_hash and USER not in row.user_hash
            stored = session.scalars(select(InboxEvent)).one()
            assert USER not in json.dumps(stored.payload) and "除雪" not in json.dumps(stored.payload)
    assert not fake_line.of("push")
    db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("line.sqlite3*"))
    assert USER.encode() not in db_bytes


def test_missing_wrong_or_oversized_signature_bodies_are_rejected_and_nothing_is_stored(
        line_settings: Settings, planbot: PlanBot, fake_line: FakeLineApi) -> None:
    small = line_settings.model_copy(update={"line_max_body_bytes": 4096})
    with _serve(small, planbot) as live:
        event = text_event("除雪は？")
        assert post(live, [event], signature=None).status_code == 400
        assert post(live, [event], signature=sign(b"another body")).status_code == 400
        assert post(live, [event], signature=sign(b"x", secret="not-the-secret")).status_code == 400
        big = text_event("雪" * 5000)
        assert post(live, [big]).status_code == 413
        garbage = b"{not json"
        bad_json = httpx.post(f"{live.url}/line/webhook", content=garbage, timeout=10,
                              headers={"x-line-signature": sign(garbage)})
        assert bad_json.status_code == 400
        no_events = b'{"events": "nope"}'
        assert httpx.post(f"{live.url}/line/webhook", content=no_events, timeout=10,
                          headers={"x-line-signature": sign(no_events)}).status_code == 400
        verify = post(live, [])  # the console's "Verify" button sends no events
        assert verify.status_code == 200
        assert live.services.inbox.counts() == {}  # each response came after its decision to store or not
        # A valid event after them: once it is answered, it is the only thing stored, answered or sent.
        control = text_event("除雪は？")
        assert post(live, [control]).status_code == 200
        settle(live, 1)
        assert live.services.inbox.counts() == {"done": 1}
    assert [c.body.get("replyToken") for c in fake_line.of("reply")] == [control["replyToken"]]
    assert fake_line.of("push") == []


def test_a_redelivered_event_is_answered_once(line_settings: Settings, planbot: PlanBot,
                                               fake_line: FakeLineApi) -> None:
    event = text_event("子育ての支援はありますか")
    again = {**event, "deliveryContext": {"isRedelivery": True}}
    with _serve(line_settings, planbot) as live:
        assert post(live, [event]).status_code == 200
        assert post(live, [again]).status_code == 200
        assert post(live, [again]).status_code == 200
        settle(live, 1)
        # The redeliveries were not stored (one inbox row, finished): nothing is left that could answer again.
        assert live.services.inbox.counts() == {"done": 1}
        assert len(fake_line.of("reply")) == 1
        with live.services.database.session() as session:
            assert len(session.scalars(select(AnswerRecord)).all()) == 1


def test_follow_non_text_group_room_standby_and_unfollow_events(line_settings: Settings, planbot: PlanBot,
                                                  fake_line: FakeLineApi) -> None:
    group = {"type": "group", "groupId": "Cgroup1", "userId": USER}
    follow = {"type": "follow", "mode": "active", "timestamp": int(time.time() * 1000), "webhookEventId": "F1",
              "deliveryContext": {"isRedelivery": False}, "replyToken": "follow-token",
              "source": {"type": "user", "userId": USER}, "follow": {"isUnblocked": False}}
    unfollow = {"type": "unfollow", "mode": "active", "timestamp": int(time.time() * 1000), "webhookEventId": "F2",
                "deliveryContext": {"isRedelivery": False}, "source": {"type": "user", "userId": USER}}
    sticker = message_event({"type": "sticker", "packageId": "446", "stickerId": "1988",
                             "stickerResourceType": "STATIC"})
    sticker["replyToken"] = "sticker-token"
    unmentioned = text_event("除雪は？", source=group)
    mentioned = message_event({"type": "text", "text": "@planbot 冬の除雪はどうなる？", "mention": {"mentionees": [
        {"index": 0, "length": 8, "type": "user", "userId": "Ubot", "isSelf": True}]}}, source=group)
    mentioned["replyToken"] = "group-token"
    image = message_event({"type": "image", "contentProvider": {"type": "line"}})
    image["replyToken"] = "image-token"
    location = message_event({"type": "location", "title": "青森駅", "address": "青森市", "latitude": 40.8,
                              "longitude": 140.7})
    location["replyToken"] = "location-token"
    room = text_event("除雪は？", source={"type": "room", "roomId": "Rroom1", "userId": USER})
    standby = {**text_event("冬の除雪はどうなる？"), "mode": "standby"}
    unknown = {"type": "somethingNew", "timestamp": 1, "webhookEventId": "X1", "mode": "active",
               "deliveryContext": {"isRedelivery": False}}
    with _serve(line_settings, planbot) as live:
        events = [follow, unfollow, sticker, image, location, unmentioned, room, mentioned, standby, unknown]
        assert post(live, events).status_code == 200
        settle(live, len(events))
        replies = {c.body["replyToken"]: "\n".join(c.texts) for c in fake_line.of("reply")}
        assert set(replies) == {"follow-token", "sticker-token", "image-token", "location-token", "group-token"}
        assert "個人情報" in replies["follow-token"] and line_settings.city_contact in replies["follow-token"]
        for token in ("sticker-token", "image-token", "location-token"):
            assert "文章で送ってください" in replies[token]
        assert "雪対策" in replies["group-token"]
        assert fake_line.of("loading") == []  # only 1:1 text questions show it
        with live.services.database.session() as session:
            questions = session.scalars(select(AnswerRecord.question)).all()
        assert len(questions) == 1  # the mention is stripped before asking
        assert questions[0].startswith("冬の除雪はどうなる") and "@" not in questions[0]
        assert live.services.inbox.counts() == {"done": len(events)}


def test_reply_failing_500_falls_back_to_push_with_a_retry_key(line_settings: Settings, planbot: PlanBot,
                                                                fake_line: FakeLineApi) -> None:
    fake_line.fail("reply", 500)
    event = text_event("冬の除雪はどうなる？")
    with _serve(line_settings, planbot) as live:
        assert post(live, [event]).status_code == 200
        wait_until(lambda: len(fake_line.of("push")) == 1, timeout_s=30)
        push = fake_line.of("push")[0]
        assert push.body["to"] == USER
        assert push.headers["x-line-retry-key"] == push_retry_key(event["webhookEventId"])
        assert uuid.UUID(push.headers["x-line-retry-key"]).version == 5
        assert "雪対策" in push.shown
        settle(live, 1)
    assert [c.status for c in fake_line.calls if c.kind == "reply"] == [500]


def test_expired_reply_token_pushes_and_a_failed_push_is_retried_with_the_same_key(
        line_settings: Settings, planbot: PlanBot, fake_line: FakeLineApi) -> None:
    fake_line.fail("push", 503)
    event = text_event("冬の除雪はどうなる？", age_s=120)
    with _serve(line_settings, planbot) as live:
        assert post(live, [event]).status_code == 200
        wait_until(lambda: len(fake_line.of("push")) == 1, timeout_s=30)
        settle(live, 1)
        attempts = fake_line.of("push", delivered_only=False)
        assert [c.status for c in attempts] == [503, 200]
        assert len({c.headers["x-line-retry-key"] for c in attempts}) == 1
        assert fake_line.of("reply", delivered_only=False) == []
        with live.services.database.session() as session:
            assert len(session.scalars(select(AnswerRecord)).all()) == 1  # answered once, delivered on retry


def test_an_acknowledged_event_survives_a_restart_and_is_answered_once(
        line_settings: Settings, planbot: PlanBot, fake_line: FakeLineApi) -> None:
    fake_line.fail("reply", 503, times=50)
    fake_line.fail("push", 503, times=50)
    event = text_event("冬の除雪はどうなる？")
    with _serve(line_settings, planbot) as live:
        assert post(live, [event]).status_code == 200
        wait_until(lambda: fake_line.of("push", delivered_only=False), timeout_s=30)
    assert fake_line.of("reply") == [] and fake_line.of("push") == []
    fake_line.recover()
    with _serve(line_settings, planbot) as live:  # a new process on the same database
        settle(live, 1)
        assert live.services.inbox.counts() == {"done": 1}
    delivered = fake_line.of("reply") + fake_line.of("push")
    assert len(delivered) == 1 and "雪対策" in delivered[0].shown


def test_push_already_accepted_is_not_sent_twice(line_settings: Settings, planbot: PlanBot,
                                                  fake_line: FakeLineApi) -> None:
    event = text_event("空き家が増えて心配", age_s=120)
    with _serve(line_settings, planbot) as live:
        assert post(live, [event]).status_code == 200
        settle(live, 1)
        handler = live.services.handlers["line"]
        # A worker that died after LINE took the push retries the event: LINE answers 409, nothing twice.
        from bot.store.inbox import InboxItem
        with live.services.database.session() as session:
            row = session.scalars(select(InboxEvent)).one()
            payload = live.services.inbox.sealer.open(row.payload)
            item = InboxItem(row.id, row.source, row.event_key, payload, row.attempts)
        handler(item)
    statuses = [c.status for c in fake_line.calls if c.kind == "push"]
    assert statuses == [200, 409]


def test_without_push_fallback_a_failed_reply_is_retried(
        line_settings: Settings, planbot: PlanBot, fake_line: FakeLineApi) -> None:
    no_push = line_settings.model_copy(update={"line_push_fallback": False})
    fake_line.fail("reply", 500)
    with _serve(no_push, planbot) as live:
        assert post(live, [text_event("冬の除雪はどうなる？")]).status_code == 200
        wait_until(lambda: len(fake_line.of("reply")) == 1, timeout_s=30)
        assert [c.status for c in fake_line.calls if c.kind == "reply"] == [500, 200]
        assert fake_line.of("push", delivered_only=False) == []


def test_a_push_refused_with_4xx_is_not_retried(line_settings: Settings, planbot: PlanBot,
                                                fake_line: FakeLineApi) -> None:
    fake_line.fail("push", 400, times=2)
    with _serve(line_settings, planbot) as live:
        assert post(live, [text_event("除雪", age_s=300)]).status_code == 200
        settle(live, 1)
        pushes = [c for c in fake_line.calls if c.kind == "push"]
        # The bubble, then its plain-text fallback (LINE's 400 may mean the bubble); then no retry.
        assert [c.status for c in pushes] == [400, 400]
        assert [m["type"] for m in pushes[1].messages] == ["text"]
        assert live.services.inbox.counts() == {"failed": 1}
