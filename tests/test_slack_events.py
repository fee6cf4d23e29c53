"""The Slack adapter end to end: real uvicorn + the real core, signed requests, a fake Slack Web API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from adapters.app import create_app
from adapters.slack import SlackChannel
from adapters.slack.blocks import ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP, ACTION_SHARE, FEEDBACK_VIEW
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.models import AnswerRecord, FeedbackRecord
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, FakeSlack, fake_slack_api, fake_socket_mode
from tests.servers.app import LiveApp, live_app, wait_until

SECRET = "slack-signing-secret-for-tests-0123456789"
CHANNEL = "C0PLANNING"
USER = "U0STAFF1"


@pytest.fixture()
def fake() -> Iterator[FakeSlack]:
    """The fake Slack Web API on loopback."""
    with fake_slack_api() as running:
        yield running


@pytest.fixture()
def live(tmp_path: Path, settings: Settings, planbot: PlanBot, fake: FakeSlack) -> Iterator[LiveApp]:
    """The app with the Slack channel, a fresh database, and the Web API pointed at the fake."""
    slack_settings = settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'slack.sqlite3'}", "inbox_lease_seconds": 5.0,
        "slack_signing_secret": SecretStr(SECRET), "slack_bot_token": SecretStr("xoxb-test-token"),
        "slack_api_url": fake.api_url})
    with live_app(create_app(slack_settings, planbot=planbot, channels=[SlackChannel(slack_settings)])) as app:
        yield app


def signed_headers(body: bytes, *, timestamp: int | None = None, secret: str = SECRET,
                   content_type: str = "application/json") -> dict[str, str]:
    """Headers Slack sends: v0=HMAC-SHA256(secret, "v0:{ts}:{body}") and the timestamp."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"x-slack-request-timestamp": ts, "x-slack-signature": signature or "", "content-type": content_type}


def post_event(live: LiveApp, event: dict[str, Any], event_id: str, retry_num: int | None = None,
               **sign: Any) -> httpx.Response:
    """Post an Events API envelope, signed."""
    envelope = {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0PLANBOT", "type": "event_callback",
                "event_id": event_id, "event_time": int(time.time()), "event": event,
                "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]}
    body = json.dumps(envelope).encode()
    headers = signed_headers(body, **sign)
    if retry_num is not None:
        headers |= {"x-slack-retry-num": str(retry_num), "x-slack-retry-reason": "http_timeout"}
    return httpx.post(f"{live.url}/slack/events", content=body, headers=headers, timeout=10)


def post_form(live: LiveApp, fields: dict[str, str]) -> httpx.Response:
    """Post a form body (slash commands, interactions), signed."""
    body = urlencode(fields).encode()
    headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
    return httpx.post(f"{live.url}/slack/events", content=body, headers=headers, timeout=10)


def click(live: LiveApp, action_id: str, value: str, user: str, *, response_url: str = "",
          thread_ts: str | None = None) -> httpx.Response:
    """A block_actions interaction on one of our buttons."""
    payload = {"type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": user},
               "api_app_id": "A0PLANBOT", "trigger_id": f"trigger-{action_id}-{user}",
               "channel": {"id": CHANNEL}, "container": {"type": "message", "channel_id": CHANNEL},
               "message": {"ts": "1700000009.000100", "thread_ts": thread_ts}, "response_url": response_url,
               "actions": [{"action_id": action_id, "block_id": "planbot_feedback", "value": value,
                            "type": "button", "text": {"type": "plain_text", "text": "👎 違う・足りない"}}]}
    return post_form(live, {"payload": json.dumps(payload)})


def mention(text: str, ts: str, thread_ts: str | None = None, user: str = USER) -> dict[str, Any]:
    """An app_mention event in the test channel."""
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts,
             "channel": CHANNEL, "event_ts": ts}
    return event | ({"thread_ts": thread_ts} if thread_ts else {})


def block_of(blocks: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The blocks of one type."""
    return [b for b in blocks if b["type"] == kind]


def feedback_block(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The 👍/👎 (and share) buttons."""
    return next(b for b in block_of(blocks, "actions") if b.get("block_id") == "planbot_feedback")


def logged(live: LiveApp) -> list[AnswerRecord]:
    """Every answer the app logged."""
    with live.services.database.session() as session:
        return list(session.scalars(select(AnswerRecord).order_by(AnswerRecord.id)).all())


def feedback_rows(live: LiveApp) -> list[FeedbackRecord]:
    """Every feedback row."""
    with live.services.database.session() as session:
        return list(session.scalars(select(FeedbackRecord).order_by(FeedbackRecord.id)).all())


def test_mention_is_answered_in_its_thread_with_citations_and_buttons(live: LiveApp, fake: FakeSlack) -> None:
    reply = post_event(live, mention("冬の除雪はどうなる？", "1700000100.000200"), "Ev0MENTION1")
    assert reply.status_code == 200
    # Stored before the 200 (durable), answered after it; how fast the ack is, bench/slack_events.py measures.
    assert sum(live.services.inbox.counts().values()) == 1
    wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 1, timeout_s=30)
    posted = fake.calls_to("chat.postMessage")[0].params
    assert posted["channel"] == CHANNEL and posted["thread_ts"] == "1700000100.000200"
    assert posted["text"]
    rows = logged(live)
    assert len(rows) == 1 and rows[0].channel == "slack"
    assert rows[0].user_hash and USER not in rows[0].user_hash
    assert "3.2.2" in [c["id"] for c in rows[0].citations]
    sections = "".join(b["text"]["text"] for b in block_of(posted["blocks"], "section"))
    assert rows[0].answer_text.splitlines()[0] in sections
    context = " ".join(e["text"] for b in block_of(posted["blocks"], "context") for e in b["elements"])
    assert "3.2.2" in context and "›" in context
    buttons = feedback_block(posted["blocks"])["elements"]
    assert {b["action_id"]: b["value"] for b in buttons} == {ACTION_FEEDBACK_UP: str(rows[0].id),
                                                             ACTION_FEEDBACK_DOWN: str(rows[0].id)}
    assert fake.calls_to("chat.postMessage")[0].authorization == "Bearer xoxb-test-token"


def test_a_retried_event_gets_no_second_answer(live: LiveApp, fake: FakeSlack) -> None:
    event = mention("空き家が増えて心配", "1700000200.000200")
    assert post_event(live, event, "Ev0RETRY").status_code == 200
    wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 1, timeout_s=30)
    for retry in (1, 2):
        assert post_event(live, event, "Ev0RETRY", retry_num=retry).status_code == 200
    # The retries were acknowledged but not stored: one inbox row, finished, so nothing can answer again.
    wait_until(lambda: live.services.inbox.counts() == {"done": 1})
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(logged(live)) == 1


@pytest.mark.parametrize("problem", ["bad_signature", "stale_timestamp"])
def test_unverified_requests_get_401_and_no_message(live: LiveApp, fake: FakeSlack, problem: str) -> None:
    sign: dict[str, Any] = ({"secret": "not-the-signing-secret"} if problem == "bad_signature"
                            else {"timestamp": int(time.time()) - 6 * 60})
    reply = post_event(live, mention("冬の除雪はどうなる？", "1700000300.000200"), f"Ev0{problem}", **sign)
    assert reply.status_code == 401
    unsigned = httpx.post(f"{live.url}/slack/events", json={"type": "url_verification", "challenge": "x"})
    assert unsigned.status_code == 401
    assert live.services.inbox.counts() == {}  # the 401 came after the decision not to store
    # A signed event after them: once it is answered, it is the only thing stored, answered or logged.
    assert post_event(live, mention("除雪は？", "1700000301.000200"), f"Ev0{problem}OK").status_code == 200
    wait_until(lambda: live.services.inbox.counts() == {"done": 1}, timeout_s=30)
    posted = fake.calls_to("chat.postMessage")
    assert [c.params["thread_ts"] for c in posted] == ["1700000301.000200"] and len(logged(live)) == 1


def test_url_verification_echoes_the_challenge(live: LiveApp) -> None:
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    reply = httpx.post(f"{live.url}/slack/events", content=body, headers=signed_headers(body), timeout=10)
    assert reply.status_code == 200
    assert reply.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_feedback_clicks_are_stored_latest_wins_and_thumbs_down_asks_why(live: LiveApp, fake: FakeSlack) -> None:
    post_event(live, mention("子育て支援について知りたい", "1700000400.000200"), "Ev0FEEDBACK")
    wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 1, timeout_s=30)
    answer_id = str(logged(live)[0].id)
    assert click(live, ACTION_FEEDBACK_UP, answer_id, USER).status_code == 200
    assert [(r.value, r.note) for r in feedback_rows(live)] == [("up", None)]
    forged = {"payload": json.dumps({"type": "block_actions", "user": {"id": USER}, "actions": [
        {"action_id": ACTION_FEEDBACK_DOWN, "value": answer_id}]})}
    forged_body = urlencode(forged).encode()
    forged_headers = signed_headers(forged_body, secret="forged", content_type="application/x-www-form-urlencoded")
    assert httpx.post(f"{live.url}/slack/events", content=forged_body, headers=forged_headers).status_code == 401
    assert [r.value for r in feedback_rows(live)] == ["up"]
    wait_until(lambda: len(fake.calls_to("chat.postEphemeral")) == 1)
    assert click(live, ACTION_FEEDBACK_DOWN, answer_id, USER).status_code == 200
    assert click(live, ACTION_FEEDBACK_UP, answer_id, "U0STAFF2").status_code == 200
    rows = feedback_rows(live)
    assert sorted(r.value for r in rows) == ["down", "up"] and len({r.user_hash for r in rows}) == 2
    wait_until(lambda: len(fake.calls_to("views.open")) == 1)
    opened = fake.calls_to("views.open")[0].params
    assert opened["trigger_id"] == f"trigger-{ACTION_FEEDBACK_DOWN}-{USER}"
    view = opened["view"]
    submission = {"type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": USER},
                  "view": {"id": "V1", "type": "modal", "callback_id": FEEDBACK_VIEW,
                           "private_metadata": view["private_metadata"],
                           "state": {"values": {"note": {"note": {"type": "plain_text_input",
                                                                  "value": "施策が違います。090-1234-5678まで"}}}}}}
    assert post_form(live, {"payload": json.dumps(submission)}).status_code == 200
    mine = [r for r in feedback_rows(live) if r.value == "down"]
    assert len(mine) == 1 and mine[0].note is not None
    assert "施策が違います" in mine[0].note and "090-1234-5678" not in mine[0].note
    record = live.services.answer_log.get(int(answer_id))
    assert record is not None and (record.feedback_up, record.feedback_down) == (1, 1)


def test_plan_command_answers_ephemerally_and_can_be_shared(live: LiveApp, fake: FakeSlack) -> None:
    reply = post_form(live, {"command": "/plan", "text": "冬の除雪はどうなる？", "user_id": USER,
                             "channel_id": CHANNEL, "team_id": TEAM_ID, "trigger_id": "trig-cmd-1",
                             "response_url": fake.response_url("cmd1")})
    assert reply.status_code == 200
    wait_until(lambda: len(fake.calls_to("response/cmd1")) == 1, timeout_s=30)
    sent = fake.calls_to("response/cmd1")[0].params
    assert sent["response_type"] == "ephemeral" and sent["text"]
    assert "冬の除雪はどうなる？" in json.dumps(sent["blocks"], ensure_ascii=False)
    buttons = {b["action_id"]: b["value"] for b in feedback_block(sent["blocks"])["elements"]}
    assert set(buttons) == {ACTION_FEEDBACK_UP, ACTION_FEEDBACK_DOWN, ACTION_SHARE}
    assert fake.calls_to("chat.postMessage") == []
    usage = post_form(live, {"command": "/plan", "text": " ", "user_id": USER, "channel_id": CHANNEL,
                             "team_id": TEAM_ID, "trigger_id": "trig-cmd-2", "response_url": fake.response_url("c2")})
    assert usage.status_code == 200 and "/plan" in usage.text
    share_url = fake.response_url("share1")
    assert click(live, ACTION_SHARE, buttons[ACTION_SHARE], USER, response_url=share_url).status_code == 200
    wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 1, timeout_s=15)
    shared = fake.calls_to("chat.postMessage")[0].params
    assert shared["channel"] == CHANNEL and f"<@{USER}>" in json.dumps(shared["blocks"])
    wait_until(lambda: len(fake.calls_to("response/share1")) == 1)
    assert fake.calls_to("response/share1")[0].params == {"delete_original": True}
    assert [r.channel for r in logged(live)] == ["slack"]


def test_direct_messages_are_answered_and_bot_messages_ignored(live: LiveApp, fake: FakeSlack) -> None:
    dm = {"type": "message", "channel_type": "im", "channel": "D0STAFF1", "user": USER,
          "text": "ごみの減量について", "ts": "1700000500.000200"}
    assert post_event(live, dm, "Ev0DM1").status_code == 200
    own = dm | {"bot_id": "B0OTHER", "user": "U0OTHERBOT", "ts": "1700000501.000200"}
    assert post_event(live, own, "Ev0DM2").status_code == 200
    in_channel = dm | {"channel_type": "channel", "channel": CHANNEL, "ts": "1700000502.000200"}
    assert post_event(live, in_channel, "Ev0DM3").status_code == 200
    # Only the DM was stored (the bot's own message and the channel message were not): once it is done,
    # nothing is left that could post.
    wait_until(lambda: live.services.inbox.counts() == {"done": 1}, timeout_s=30)
    posted = [c.params for c in fake.calls_to("chat.postMessage")]
    assert len(posted) == 1 and posted[0]["channel"] == "D0STAFF1" and posted[0].get("thread_ts") is None


def test_follow_up_in_a_thread_uses_the_earlier_question(live: LiveApp, fake: FakeSlack) -> None:
    parent = "1700000600.000200"
    fake.state.add_message(CHANNEL, {"ts": parent, "user": USER, "text": f"<@{BOT_USER_ID}> 冬の除雪はどうなる？"})
    post_event(live, mention("それはいつから？", "1700000605.000200", thread_ts=parent), "Ev0FOLLOW")
    wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 1, timeout_s=30)
    assert fake.calls_to("conversations.replies")[0].params["ts"] == parent
    assert fake.calls_to("chat.postMessage")[0].params["thread_ts"] == parent
    row = logged(live)[0]
    assert row.question == "それはいつから？"
    assert row.answerable and row.citations[0]["id"].startswith("3.2.")


@pytest.mark.parametrize("status", [429, 503])
def test_rate_limits_and_server_errors_are_retried_without_a_second_answer(
        live: LiveApp, fake: FakeSlack, status: int) -> None:
    fake.state.fail_next("chat.postMessage", status=status, error="ratelimited" if status == 429 else "fatal")
    post_event(live, mention("観光の振興は？", "1700000700.000200"), f"Ev0FAIL{status}")
    wait_until(lambda: live.services.inbox.counts() == {"done": 1}, timeout_s=30)
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(logged(live)) == 1


def test_a_refused_post_is_not_retried(live: LiveApp, fake: FakeSlack) -> None:
    fake.state.fail_next("chat.postMessage", status=200, error="channel_not_found")
    post_event(live, mention("観光の振興は？", "1700000800.000200"), "Ev0REFUSED")
    wait_until(lambda: live.services.inbox.counts() == {"failed": 1}, timeout_s=30)
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_concurrent_requests_ask_slack_who_the_bot_is_once(fake: FakeSlack) -> None:
    import asyncio

    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack.identity import SlackIdentity

    async def burst() -> list[str | None]:
        identity = SlackIdentity(AsyncWebClient(token="xoxb-test-token", base_url=fake.api_url))
        results = await asyncio.gather(*(identity.result() for _ in range(12)))
        return [r.bot_user_id for r in results]

    assert asyncio.run(burst()) == [BOT_USER_ID] * 12
    assert len(fake.calls_to("auth.test")) == 1


def test_slack_down_at_start_up_does_not_stop_the_burst_after_it(tmp_path: Path, settings: Settings,
                                                                  planbot: PlanBot, fake: FakeSlack) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake.state.fail_next("auth.test", status=500, error="internal_error", times=1)
    slack_settings = settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'slack.sqlite3'}", "slack_signing_secret": SecretStr(SECRET),
        "slack_bot_token": SecretStr("xoxb-test-token"), "slack_api_url": fake.api_url})
    with live_app(create_app(slack_settings, planbot=planbot, channels=[SlackChannel(slack_settings)])) as live:
        assert len(fake.calls_to("auth.test")) == 1  # asked at start-up, and failed
        events = [(mention("冬の除雪はどうなる？", f"1700000900.{n:06d}"), f"Ev0BURST{n:02d}") for n in range(8)]
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda e: post_event(live, *e), events))
        assert [r.status_code for r in replies] == [200] * 8
        wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 8, timeout_s=60)
    assert len(fake.calls_to("auth.test")) == 2  # one failure at start-up, then one answer for the burst


def test_socket_mode_feeds_the_same_listeners(tmp_path: Path, settings: Settings, planbot: PlanBot,
                                              fake: FakeSlack) -> None:
    socket_settings = settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'socket.sqlite3'}", "slack_signing_secret": SecretStr(SECRET),
        "slack_bot_token": SecretStr("xoxb-test-token"), "slack_app_token": SecretStr("xapp-test-token"),
        "slack_api_url": fake.api_url})
    with fake_socket_mode(fake) as socket, \
            live_app(create_app(socket_settings, planbot=planbot, channels=[SlackChannel(socket_settings)])) as app:
        wait_until(lambda: socket.connected)
        assert fake.calls_to("apps.connections.open")[0].authorization == "Bearer xapp-test-token"
        envelope = {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0PLANBOT", "type": "event_callback",
                    "event_id": "Ev0SOCKET", "event_time": int(time.time()),
                    "event": mention("冬の除雪はどうなる？", "1700000900.000200")}
        socket.send("env-1", envelope)
        wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 1, timeout_s=30)
        assert fake.calls_to("chat.postMessage")[0].params["thread_ts"] == "1700000900.000200"
        socket.send("env-2", envelope, retry=1)
        wait_until(lambda: {a.get("envelope_id") for a in socket.acks} >= {"env-1", "env-2"})
        # The redelivery was acked without being stored (one row, done): nothing is left that could post.
        assert app.services.inbox.counts() == {"done": 1}
        assert len(fake.calls_to("chat.postMessage")) == 1
