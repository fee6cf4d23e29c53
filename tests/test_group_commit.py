"""Group-committed acks under kill -9: a web-only process acknowledging a burst is killed in the middle, and
every event it acknowledged is in the database (nothing is acknowledged before its transaction commits),
once; events share transactions (the point of the group commit). On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bench.load import LINE_TOKEN, build_plan, post_all, serve_env, stored_counts
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import InboxEvent
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import fake_slack_api
from tests.servers.serve import KillAfterAcks, ServeProcess, seed_data_dir

KILL_AFTER_ACKS = 250


def commit_sizes(database_url: str) -> Counter[object]:
    """Rows per transaction: a batch's rows share one `received_at`."""
    database = Database(database_url)
    try:
        with database.session() as session:
            return Counter(session.scalars(select(InboxEvent.received_at)).all())
    finally:
        database.dispose()


def test_a_killed_web_process_acknowledged_only_committed_events_in_shared_transactions(
        settings: Settings, database_url: str, tmp_path: Path) -> None:
    with FakeLineApi(LINE_TOKEN).running() as fake_line, fake_slack_api() as fake_slack:
        env = serve_env(seed_data_dir(settings.data_dir, tmp_path / "data"), database_url, fake_line.url,
                        fake_slack.api_url)
        web = ServeProcess(env, log_path=tmp_path / "web.log", web_only=True)
        web.start()
        try:
            web.wait_healthy(timeout_s=120)
            plan = build_plan(line=400, slack=200, copies=1, forged_ratio=0.0)
            killer = KillAfterAcks(KILL_AFTER_ACKS, web.kill9)
            results = asyncio.run(post_all(web.url, plan.posts, concurrency=100, on_result=killer.on_result))
            killer.join()
        finally:
            web.terminate()
    acknowledged = {(r.post.source, r.post.key) for r in results if r.status == 200}
    assert len(acknowledged) >= KILL_AFTER_ACKS and any(r.status is None for r in results), "not killed mid-burst"
    assert all(r.status in (200, None) for r in results), Counter(r.status for r in results)
    _, held, statuses = stored_counts(database_url)
    assert acknowledged <= set(held), sorted(acknowledged - set(held))[:5]  # durable before its 200
    assert set(held) <= plan.valid and set(held.values()) == {1} and statuses == {"pending": len(held)}
    sizes = commit_sizes(database_url)
    assert sum(sizes.values()) == len(held)
    assert len(sizes) < len(held) and max(sizes.values()) > 1, "every event committed alone"
    print(f"acknowledged {len(acknowledged)}, stored {len(held)} in {len(sizes)} commits "
          f"(largest {max(sizes.values())})")
