"""A bounded load on `planbot serve`: signed LINE and Slack events, each posted twice, 1% forged.

The bench form (`python -m bench.load`, larger by default) prints the same figures.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.load import (
    LINE_TOKEN,
    build_plan,
    delivered_counts,
    figures,
    post_all,
    serve_env,
    stored_counts,
    verdict,
    wait_answered,
)
from bot.service import PlanBot
from bot.settings import Settings
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import fake_slack_api
from tests.servers.app import wait_until
from tests.servers.serve import planbot_serve, seed_data_dir


def test_bounded_load_loses_nothing_answers_once_and_accepts_no_forgery(
        planbot: PlanBot, settings: Settings, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'load.sqlite3'}"
    plan = build_plan(line=100, slack=100, copies=2, forged_ratio=0.01)
    assert len(plan.forged) == 2 and len(plan.posts) == 402
    with FakeLineApi(LINE_TOKEN).running() as fake_line, fake_slack_api() as fake_slack:
        env = serve_env(seed_data_dir(settings.data_dir, tmp_path / "data"), database_url, fake_line.url,
                        fake_slack.api_url)
        with planbot_serve(env, log_path=tmp_path / "serve.log") as server:
            started = time.perf_counter()
            results = asyncio.run(post_all(server.url, plan.posts, concurrency=32))
            acked_s = time.perf_counter() - started
            wait_answered(plan, plan.valid, fake_line, fake_slack, timeout_s=150)
            # One inbox row per valid event, every one finished: nothing is left that could answer again.
            wait_until(lambda: stored_counts(database_url)[2] == {"done": len(plan.valid)}, timeout_s=30)
            assert server.process is not None and server.process.poll() is None
        found = verdict(plan, results, fake_line, fake_slack, database_url)
    measured = figures(results, acked_s)
    print(measured)
    assert {r.status for r in results if r.post.forged} <= {400, 401}
    assert all(r.status == 200 for r in results if not r.post.forged)
    assert found.acked == plan.valid
    assert found.forged_accepted == [] and found.lost == [] and found.duplicated == []
    assert found.log_mismatch == []
    delivered = delivered_counts(plan, fake_line, fake_slack)
    assert sum(delivered.values()) == len(plan.valid)
    assert set(stored_counts(database_url)[1]) == plan.valid  # the redeliveries were not stored again
    # How fast the acks are is measured by `python -m bench.load` (bench/RESULTS.md), not asserted here.
    assert "Traceback" not in server.log_text()
