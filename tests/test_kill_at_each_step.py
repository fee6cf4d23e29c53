"""At-most-once LINE replies: a worker process is killed (kill -9) at each step of answering one event, and
the user still gets exactly one answer — never two, and never a push after a reply.

The layout is the shipped one: `planbot serve --web-only` and two `planbot worker` processes on one SQLite
file, with a 3 s lease. The fake LINE API holds a call in the middle (tests/fakes/line_api.py), the test
kills the worker holding the event there and waits until the other worker has finished it. Each step is a
different durable state of the inbox row (`delivery`), which is what the surviving worker resumes from.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bench.load import LINE_SECRET, LINE_TOKEN, serve_env
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import AnswerRecord, InboxEvent
from tests.fakes.line_api import FakeLineApi, LineCall
from tests.fakes.slack_api import fake_slack_api
from tests.servers.app import wait_until
from tests.servers.serve import ServeProcess, seed_data_dir, split_layout
from tests.test_line_webhook import sign, text_event

LEASE_S = 3


@dataclass
class Layout:
    """The running processes, the fake LINE API and the database they share."""

    web: ServeProcess
    workers: list[ServeProcess]
    line: FakeLineApi
    database_url: str
    env: dict[str, str]
    log_dir: Path

    def post(self, event: dict[str, Any]) -> None:
        body = json.dumps({"destination": "Ubot", "events": [event]}, ensure_ascii=False).encode()
        response = httpx.post(f"{self.web.url}/line/webhook", content=body, timeout=30,
                              headers={"content-type": "application/json", "x-line-signature": sign(body, LINE_SECRET)})
        assert response.status_code == 200

    def row(self, key: str) -> InboxEvent | None:
        database = Database(self.database_url)
        try:
            with database.session() as session:
                return session.scalars(select(InboxEvent).where(InboxEvent.event_key == key)).first()
        finally:
            database.dispose()

    def logged(self, key: str) -> int:
        database = Database(self.database_url)
        try:
            with database.session() as session:
                return len(session.scalars(select(AnswerRecord.id).where(AnswerRecord.event_key == key)).all())
        finally:
            database.dispose()

    def kill_holder(self, key: str) -> ServeProcess:
        """kill -9 the worker process that holds event `key`, then start another one (two stay running)."""
        row = self.row(key)
        assert row is not None and row.claimed_by
        pid = int(row.claimed_by.split(":")[1])
        holder = next(w for w in self.workers if w.process is not None and w.process.pid == pid)
        holder.kill9()
        self.workers.remove(holder)
        replacement = ServeProcess(dict(self.env), log_path=self.log_dir / f"worker-{time.monotonic_ns()}.log",
                                   worker=True)
        replacement.start()
        self.workers.append(replacement)
        return holder

    def wait_done(self, key: str) -> InboxEvent:
        wait_until(lambda: (row := self.row(key)) is not None and row.status == "done", timeout_s=180)
        row = self.row(key)
        assert row is not None
        return row


@pytest.fixture(scope="module")
def layout(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    """One web-only process and two workers for the module (each test kills one and starts another)."""
    from bot.service import build_planbot

    build_planbot(settings)  # the session's index, copied into the servers' data dir
    tmp = tmp_path_factory.mktemp("kill-steps")
    database_url = f"sqlite:///{tmp / 'steps.sqlite3'}"
    with FakeLineApi(LINE_TOKEN).running() as line, fake_slack_api() as slack:
        env = serve_env(seed_data_dir(settings.data_dir, tmp / "data"), database_url, line.url, slack.api_url,
                        {"PLANBOT_INBOX_LEASE_SECONDS": str(LEASE_S)})
        split = split_layout(env, workers=2, log_dir=tmp)
        split.start(timeout_s=300)
        running = Layout(split.web, split.workers, line, database_url, env, tmp)
        try:
            yield running
        finally:
            for process in (running.web, *running.workers):
                process.terminate()
            assert "Traceback" not in "".join(p.log_text() for p in (running.web, *running.workers))


def delivered_to(line: FakeLineApi, event: dict[str, Any]) -> list[LineCall]:
    """Every reply or push LINE took for this event."""
    user = event["source"]["userId"]
    return [c for c in line.of("reply") if c.body.get("replyToken") == event["replyToken"]] + \
        [c for c in line.of("push") if c.body.get("to") == user]


def pushes_to(line: FakeLineApi, event: dict[str, Any]) -> list[LineCall]:
    """Every push tried for this event's user, whatever LINE answered."""
    return [c for c in line.of("push", delivered_only=False) if c.body.get("to") == event["source"]["userId"]]


def fresh_event(question: str, age_s: float = 0.0) -> dict[str, Any]:
    """A 1:1 text event of a user of its own."""
    event = text_event(question, age_s=age_s)
    event["source"] = {"type": "user", "userId": "U" + event["webhookEventId"].lower()[:32]}
    return event


def ready_for_next(layout: Layout) -> None:
    for worker in layout.workers:
        worker.wait_healthy(timeout_s=300)


def kill_while_held(layout: Layout, kind: str, take: bool, event: dict[str, Any],
                    delivery_when_held: str | None) -> InboxEvent:
    """Post `event`, hold its `kind` call in the middle, kill -9 the worker holding the event (checking first
    that the row records `delivery_when_held`), and return the row once the other worker finished it."""
    ready_for_next(layout)
    held = layout.line.hold(kind, take=take)
    layout.post(event)
    assert held.arrived.wait(timeout=120), f"no {kind} call; pushes: {pushes_to(layout.line, event)}"
    key = event["webhookEventId"]
    row = layout.row(key)
    assert row is not None and row.delivery == delivery_when_held  # durable before the call
    layout.kill_holder(key)
    held.release()
    finished = layout.wait_done(key)
    assert layout.logged(key) == 1
    return finished


def test_killed_before_answering_the_event_is_answered_once(layout: Layout) -> None:
    event = fresh_event("冬の除雪はどうなる？")
    # 1:1 text: the loading animation comes before answering, so nothing is logged or marked yet.
    finished = kill_while_held(layout, "loading", True, event, delivery_when_held=None)
    assert finished.delivery == "sent" and finished.attempts == 2
    calls = delivered_to(layout.line, event)
    # The snow measure (3.2.2), named in words: a citizen never sees the id.
    assert [c.kind for c in calls] == ["reply"] and "雪対策" in "\n".join(calls[0].texts)


def test_killed_mid_reply_before_line_took_it_the_takeover_replies_once(layout: Layout) -> None:
    event = fresh_event("子育ての支援はありますか")
    finished = kill_while_held(layout, "reply", False, event, delivery_when_held="replying")
    assert finished.delivery == "sent"
    assert [c.kind for c in delivered_to(layout.line, event)] == ["reply"]  # the takeover's reply, no push
    assert pushes_to(layout.line, event) == []


def test_killed_after_line_took_the_reply_nothing_is_sent_again(layout: Layout) -> None:
    event = fresh_event("空き家が増えて心配")
    finished = kill_while_held(layout, "reply", True, event, delivery_when_held="replying")
    assert finished.delivery == "sent"
    assert [c.kind for c in delivered_to(layout.line, event)] == ["reply"]
    # The takeover asked LINE with the same token; "Invalid reply token" told it the answer was out.
    checks = [c for c in layout.line.of("reply", delivered_only=False)
              if c.body.get("replyToken") == event["replyToken"]]
    assert [c.status for c in checks] == [200, 400]
    assert pushes_to(layout.line, event) == []


def test_killed_after_line_took_a_push_the_retry_key_keeps_it_single(layout: Layout) -> None:
    event = fresh_event("バスの路線について", age_s=47)  # too old to reply to: pushed
    finished = kill_while_held(layout, "push", True, event, delivery_when_held=None)
    assert finished.delivery == "sent"
    assert [c.kind for c in delivered_to(layout.line, event)] == ["push"]
    assert [c.status for c in pushes_to(layout.line, event)] == [200, 409]


def test_a_reply_whose_outcome_the_token_can_no_longer_tell_is_not_sent_again(layout: Layout) -> None:
    ready_for_next(layout)
    held = layout.line.hold("reply", take=True)
    event = fresh_event("図書館の計画は？", age_s=10)
    layout.post(event)
    assert held.arrived.wait(timeout=120), f"no reply tried; pushes: {pushes_to(layout.line, event)}"
    key = event["webhookEventId"]
    # Every worker dies while the reply is out (before its client times out), and none comes back before the
    # event is past the reply window: the token can no longer tell whether the reply went out.
    for worker in list(layout.workers):
        worker.kill9()
    held.release()
    wait_until(lambda: time.time() - event["timestamp"] / 1000 > 51, timeout_s=90, interval_s=0.2)
    row = layout.row(key)
    assert row is not None and row.status == "processing" and row.delivery == "replying"
    layout.workers = [ServeProcess(dict(layout.env), log_path=layout.log_dir / f"late-{n}.log", worker=True)
                      for n in range(2)]
    for worker in layout.workers:
        worker.start()
    finished = layout.wait_done(key)
    assert finished.delivery == "unknown"
    assert [c.kind for c in delivered_to(layout.line, event)] == ["reply"]  # the one LINE took, not pushed
    assert pushes_to(layout.line, event) == []
    assert any("outcome is unknown" in w.log_text() for w in layout.workers)
