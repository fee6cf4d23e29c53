"""Property-based: whatever reaches `/api/ask`, `/line/webhook` or `/slack/events`, the live app answers
with a valid answer or a clean 4xx, never a 5xx or a traceback, and stays healthy.

One real app (uvicorn on loopback, the real core, LINE and Slack against local fakes) serves every example.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import select

from adapters.app import create_app
from adapters.line import LineChannel
from adapters.slack import SlackChannel
from bench.load import LINE_SECRET, LINE_TOKEN, SLACK_SECRET, SLACK_TOKEN, line_event, line_post, slack_post
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.models import InboxEvent
from bot.types import Question
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import fake_slack_api
from tests.servers.app import LiveApp, live_app, wait_until

NASTY = [
    "", " ", "\u3000\t\n", "\x00", "\x00\x01\x02\x1b[2J\x7f", "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE answer_log; --", "1' OR '1'='1", "\u202e除雪\u202c", "مرحبا كيف الثلج", "שלום 除雪",
    "👨‍👩‍👧‍👦🏳️‍🌈", "除\u200d雪\ufeff", "ﾕｷｶｷ ｼﾞｮｾﾂ", "Снег 除雪 눈 snow", "{{7*7}}${jndi:ldap://x}",
    "雪" * 10_001, "a" * 12_000, "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=200),
                 st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40))
CONTENT_TYPES = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=x", "application/xml", ""])
BODIES = st.one_of(st.binary(max_size=300), st.sampled_from([
    b"", b"{", b"[]", b"null", b"\"events\"", b'{"events": null}', b'{"events": [1, 2]}', b'{"events": [{}]}',
    b'{"type": "url_verification"}', b'{"type": "event_callback", "event": "x"}', b"payload=%7B",
    b'{"events": [{"type": "message", "message": {"type": "text", "text": 5}}]}', b"\xff\xfe\x00",
    b"payload=" + json.dumps({"type": "block_actions", "actions": [{"value": "x"}]}).encode(),
]))
FUZZ = settings(max_examples=30, deadline=None, derandomize=True)


@pytest.fixture(scope="module")
def live(planbot: PlanBot, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app with both channels on local fakes, a fresh SQLite log, and limits no fuzzer reaches."""
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    with FakeLineApi(LINE_TOKEN).running() as fake_line, fake_slack_api() as fake_slack:
        fuzz_settings = settings.model_copy(update={
            "database_url": f"sqlite:///{tmp / 'fuzz.sqlite3'}", "rate_limit_per_minute": 100_000,
            "api_rate_limit_per_minute": 100_000,
            "line_channel_secret": SecretStr(LINE_SECRET), "line_channel_access_token": SecretStr(LINE_TOKEN),
            "line_api_base_url": fake_line.url, "slack_signing_secret": SecretStr(SLACK_SECRET),
            "slack_bot_token": SecretStr(SLACK_TOKEN), "slack_api_url": fake_slack.api_url})
        channels: list[Any] = [LineChannel(fuzz_settings), SlackChannel(fuzz_settings)]
        with live_app(create_app(fuzz_settings, planbot=planbot, channels=channels)) as app:
            yield app
            # Everything accepted was answered or deliberately ignored: nothing failed at the fakes.
            try:
                wait_until(lambda: set(app.services.inbox.counts()) <= {"done"}, timeout_s=120)
            except AssertionError:
                with app.services.database.session() as session:
                    rows = session.execute(select(InboxEvent.source, InboxEvent.status, InboxEvent.last_error)
                                           .where(InboxEvent.status != "done")).all()
                raise AssertionError(f"inbox not settled: {rows}") from None


def clean(response: httpx.Response) -> None:
    """A 2xx or a 4xx, and no traceback or exception text in the body."""
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text


@FUZZ
@given(text=TEXT, user=st.one_of(st.none(), st.text(max_size=60)))
def test_api_ask_answers_anything_or_refuses_cleanly(live: LiveApp, text: str, user: str | None) -> None:
    response = httpx.post(f"{live.url}/api/ask", json={"question": text, "user_id": user}, timeout=60)
    clean(response)
    if len(text) > 20_000:
        assert response.status_code == 422
        return
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["answer"], str) and body["answer"].strip()
    assert isinstance(body["answerable"], bool)
    assert body["answerable"] or body["citations"] == []


@FUZZ
@given(text=TEXT, n=st.integers(0, 10**9))
def test_signed_line_text_events_of_any_text_are_acknowledged(live: LiveApp, text: str, n: int) -> None:
    event = line_event(f"FUZZ{n:010d}{abs(hash(text)) % 10**8:08d}", n)
    event["message"]["text"] = text
    post = line_post(event)
    response = httpx.post(f"{live.url}/line/webhook", content=post.body, headers=post.headers, timeout=30)
    clean(response)
    assert response.status_code in (200, 413)  # 413 only past LINE_MAX_BODY_BYTES


@FUZZ
@given(text=TEXT, n=st.integers(0, 10**9))
def test_signed_slack_mentions_of_any_text_are_acknowledged(live: LiveApp, text: str, n: int) -> None:
    post = slack_post(f"EvFUZZ{n:010d}{abs(hash(text)) % 10**8:08d}", n, f"1700{n:010d}.000100")
    envelope = json.loads(post.body)
    envelope["event"]["text"] = text
    signed = slack_post_from(envelope)
    response = httpx.post(f"{live.url}/slack/events", content=signed[0], headers=signed[1], timeout=30)
    clean(response)
    assert response.status_code == 200


def slack_post_from(envelope: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """Sign an arbitrary envelope as Slack would."""
    body = json.dumps(envelope, ensure_ascii=False).encode()
    return body, slack_headers_for(body, "application/json")


def slack_headers_for(body: bytes, content_type: str) -> dict[str, str]:
    """Slack's signature over the raw bytes (any bytes, not only UTF-8): v0=HMAC-SHA256("v0:{ts}:" + body)."""
    stamp = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": content_type, "x-slack-request-timestamp": stamp, "x-slack-signature": f"v0={digest}"}


@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES, signed=st.booleans())
def test_garbage_bodies_get_a_clean_4xx_or_are_ignored(live: LiveApp, body: bytes, content_type: str,
                                                        signed: bool) -> None:
    line_headers = {"content-type": content_type}
    if signed:
        line_headers["x-line-signature"] = base64.b64encode(
            hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    line = httpx.post(f"{live.url}/line/webhook", content=body, headers=line_headers, timeout=30)
    clean(line)
    if not signed:
        assert line.status_code == 400
    slack_headers = slack_headers_for(body, content_type) if signed else {"content-type": content_type}
    slack = httpx.post(f"{live.url}/slack/events", content=body, headers=slack_headers, timeout=30)
    clean(slack)
    if not signed:
        assert slack.status_code in (400, 401, 403)
    ask = httpx.post(f"{live.url}/api/ask", content=body, headers={"content-type": content_type}, timeout=30)
    clean(ask)
    assert ask.status_code in (200, 400, 422)


def test_the_app_is_still_healthy_after_the_fuzzing(live: LiveApp, planbot: PlanBot) -> None:
    assert httpx.get(f"{live.url}/healthz", timeout=10).status_code == 200
    question = "冬の除雪はどうなる？"
    answer = httpx.post(f"{live.url}/api/ask", json={"question": question}, timeout=60).json()
    expected = planbot.ask(Question(question, channel="api"))
    assert answer["answerable"] == expected.answerable
    assert [c["id"] for c in answer["citations"]] == [c.id for c in expected.citations]
