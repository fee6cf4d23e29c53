"""Two answering processes behind one database answer a burst of duplicated events exactly once each.

Both layouts are the real commands in subprocesses: `planbot serve --workers 2` (web and answering in each
process), and `planbot serve --web-only` beside two `planbot worker` processes. LINE and Slack are local
fakes; the database is a SQLite file or a real PostgreSQL server (the `database_url` fixture runs both).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.load import build_plan, delivered_counts, post_all, serve_env, stored_counts, verdict, wait_answered
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import InboxEvent
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import FakeSlack, fake_slack_api
from tests.servers.app import wait_until
from tests.servers.serve import ServeProcess, SplitLayout, planbot_serve, planbot_split, seed_data_dir

LINE_TOKEN = "load-line-access-token-b81e2d"


@pytest.fixture()
def fakes() -> Iterator[tuple[FakeLineApi, FakeSlack]]:
    """The fake LINE and Slack APIs on loopback."""
    with FakeLineApi(LINE_TOKEN).running() as line, fake_slack_api() as slack:
        yield line, slack


def claimers(database_url: str) -> set[str]:
    """The worker processes (host:pid) that claimed events."""
    database = Database(database_url)
    try:
        with database.session() as session:
            names = session.scalars(select(InboxEvent.claimed_by)).all()
    finally:
        database.dispose()
    return {name.rsplit(":", 1)[0] for name in names if name}


def answering_pids(server: ServeProcess | SplitLayout) -> set[str]:
    """The pids of the processes that answer events, from their logs."""
    if isinstance(server, SplitLayout):
        return {str(worker.process.pid) for worker in server.workers if worker.process is not None}
    return set(re.findall(r"Started server process \[(\d+)\]", server.log_text()))


@pytest.mark.parametrize("layout", ["serve", "split"])
def test_two_workers_answer_duplicated_line_and_slack_events_exactly_once(
        planbot: PlanBot, settings: Settings, database_url: str, tmp_path: Path,
        fakes: tuple[FakeLineApi, FakeSlack], layout: str) -> None:
    fake_line, fake_slack = fakes
    data_dir = seed_data_dir(settings.data_dir, tmp_path / "data")
    env = serve_env(data_dir, database_url, fake_line.url, fake_slack.api_url)
    plan = build_plan(line=30, slack=30, copies=3, forged_ratio=0.0)
    running: AbstractContextManager[ServeProcess | SplitLayout] = (
        planbot_serve(env, workers=2, log_path=tmp_path / "serve.log") if layout == "serve"
        else planbot_split(env, workers=2, log_dir=tmp_path))
    with running as server:
        results = asyncio.run(post_all(server.url, plan.posts, concurrency=24))
        assert all(r.status == 200 for r in results), {r.status for r in results}
        wait_answered(plan, plan.valid, fake_line, fake_slack, timeout_s=120)
        wait_until(lambda: stored_counts(database_url)[2] == {"done": len(plan.valid)}, timeout_s=30)
        started = answering_pids(server)
        log_text = server.log_text()
    assert len(started) == 2, log_text[-3000:]
    assert "Traceback" not in log_text
    found = verdict(plan, results, fake_line, fake_slack, database_url)
    assert found.acked == plan.valid
    assert found.held, (found.lost, found.duplicated, found.log_mismatch)
    delivered = delivered_counts(plan, fake_line, fake_slack)
    assert {key: delivered[key] for key in plan.valid} == dict.fromkeys(plan.valid, 1)
    logged, held, _ = stored_counts(database_url)
    assert logged == dict.fromkeys(plan.valid, 1) and held == dict.fromkeys(plan.valid, 1)
    # both answering processes took part, and nothing else answered (not the web-only process)
    assert {name.rsplit(":", 1)[1] for name in claimers(database_url)} == started
    replies = fake_line.of("reply") + fake_line.of("push")
    assert replies and all(c.texts and all(t.strip() for t in c.texts) for c in replies)
