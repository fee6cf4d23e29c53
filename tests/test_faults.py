"""Faults through the running app: LINE/Slack APIs failing (retried with backoff, then recorded as failed),
the LLM endpoint down or slow (extractive answer), the Chroma folder corrupted or deleted (rebuilt at start-up).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.load import LINE_TOKEN, build_plan, post_all, serve_env, stored_counts
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import InboxEvent
from bot.types import Question
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import fake_slack_api
from tests.servers.app import wait_until
from tests.servers.chroma import free_port
from tests.servers.serve import planbot_serve, seed_data_dir

QUESTION = "冬の除雪はどうなる？"


def inbox_rows(database_url: str) -> list[tuple[str, str, int, str | None]]:
    """(source, status, attempts, last_error) of every stored event."""
    database = Database(database_url)
    try:
        with database.session() as session:
            rows = session.query(InboxEvent.source, InboxEvent.status, InboxEvent.attempts, InboxEvent.last_error)
            return [(str(s), str(st), int(a), e) for s, st, a, e in rows.all()]
    finally:
        database.dispose()


def test_platform_apis_failing_are_retried_then_delivered_or_recorded_failed(
        planbot: PlanBot, settings: Settings, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    plan = build_plan(line=2, slack=2, copies=1, forged_ratio=0.0)
    with FakeLineApi(LINE_TOKEN).running() as fake_line, fake_slack_api() as fake_slack:
        # First LINE event: reply 500, push 429 once, then push works. Second: everything fails for good.
        fake_line.fail("reply", 500, times=2)
        fake_line.fail("push", 429, times=1)
        fake_slack.state.fail_next("chat.postMessage", status=429, times=1)
        env = serve_env(seed_data_dir(settings.data_dir, tmp_path / "data"), database_url, fake_line.url,
                        fake_slack.api_url, {"PLANBOT_INBOX_MAX_ATTEMPTS": "3"})
        with planbot_serve(env) as server:
            line_posts = [p for p in plan.posts if p.source == "line"]
            first = line_posts[:1] + [p for p in plan.posts if p.source == "slack"][:1]
            assert all(r.status == 200 for r in asyncio.run(post_all(server.url, first, concurrency=2)))
            wait_until(lambda: stored_counts(database_url)[2] == {"done": 2}, timeout_s=60)
            assert len(fake_line.of("push")) == 1
            assert len(fake_slack.calls_to("chat.postMessage")) == 2  # 429, then delivered on the retry
            fake_line.fail("reply", 500, times=100)
            fake_line.fail("push", 503, times=100)
            fake_slack.state.fail_next("chat.postMessage", status=500, error="internal_error", times=100)
            rest = [p for p in plan.posts if p not in first]
            assert all(r.status == 200 for r in asyncio.run(post_all(server.url, rest, concurrency=2)))
            wait_until(lambda: stored_counts(database_url)[2] == {"done": 2, "failed": 2}, timeout_s=60)
    failed = [row for row in inbox_rows(database_url) if row[1] == "failed"]
    assert sorted(row[0] for row in failed) == ["line", "slack"]
    assert all(row[2] == 3 and row[3] for row in failed)  # every attempt used, the reason kept
    pushes = fake_line.of("push", delivered_only=False)
    assert len([c for c in pushes if c.status == 503]) == 3  # retried, not dropped after one try
    assert len(fake_slack.calls_to("chat.postMessage")) == 2 + 3
    statuses = [c.status for c in fake_line.calls if c.kind == "push"]
    assert statuses[:2] == [429, 200]


class _SlowCompletions(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(30)
        self.send_response(500)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def slow_llm() -> Iterator[str]:
    """An OpenAI-compatible base URL that takes 30 s to fail."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowCompletions)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("endpoint", ["dead", "slow"])
def test_llm_down_or_slow_falls_back_to_the_extractive_answer(planbot: PlanBot, settings: Settings,
                                                             tmp_path: Path, endpoint: str) -> None:
    expected = planbot.ask(Question(QUESTION, channel="api"))
    with slow_llm() as slow_url:
        base_url = f"http://127.0.0.1:{free_port()}/v1" if endpoint == "dead" else slow_url
        env = {"PLANBOT_DATA_DIR": str(seed_data_dir(settings.data_dir, tmp_path / "data")), "PLANBOT_ENV": "test",
               "DATABASE_URL": f"sqlite:///{tmp_path / 'llm.sqlite3'}", "PLANBOT_LLM": "openai:city-model",
               "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "sk-local-test", "PLANBOT_LLM_TIMEOUT": "2"}
        with planbot_serve(env, log_path=tmp_path / "serve.log") as server:
            started = time.perf_counter()
            response = httpx.post(f"{server.url}/api/ask", json={"question": QUESTION}, timeout=60)
            elapsed = time.perf_counter() - started
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "extractive" and body["answerable"] == expected.answerable
    assert [c["id"] for c in body["citations"]] == [c.id for c in expected.citations]
    assert elapsed < 20  # bounded by PLANBOT_LLM_TIMEOUT (2 s), not by the model's 30 s
    assert "Traceback" not in body["answer"]


@pytest.mark.parametrize("damage", ["corrupt", "delete"])
def test_damaged_chroma_folder_is_rebuilt_at_start_up(planbot: PlanBot, settings: Settings, tmp_path: Path,
                                                      damage: str) -> None:
    data_dir = seed_data_dir(settings.data_dir, tmp_path / "data")
    chroma = data_dir / "chroma"
    if damage == "delete":
        shutil.rmtree(chroma)
    else:
        for sqlite_file in chroma.glob("*.sqlite3"):
            sqlite_file.write_bytes(b"this is not a database" * 100)
    env = {"PLANBOT_DATA_DIR": str(data_dir), "PLANBOT_ENV": "test",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'rebuild.sqlite3'}"}
    with planbot_serve(env, timeout_s=300) as server:
        assert httpx.get(f"{server.url}/healthz", timeout=10).json()["status"] == "ok"
        body = httpx.post(f"{server.url}/api/ask", json={"question": QUESTION}, timeout=60).json()
    expected = planbot.ask(Question(QUESTION, channel="api"))
    assert body["answerable"] == expected.answerable
    assert [c["id"] for c in body["citations"]] == [c.id for c in expected.citations]
    assert (data_dir / "chroma").is_dir()
