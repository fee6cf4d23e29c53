"""Start-up on a fresh data dir: alive at once, ready once the index is built, and webhook events that
arrive in between are acknowledged, stored and answered when the core is ready (not refused).

A real `planbot serve` subprocess builds a real index: the kind model comes from the session's model cache
(training it takes ~80 s and is another test's subject), the plan's passage vectors do not, so the index
build embeds every passage — the same work as a first start of a city's server, only without training.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
from pydantic import SecretStr

from adapters.app import channel_report, create_app
from bench.load import LINE_TOKEN, build_plan, delivered_counts, post_all, serve_env, stored_counts, wait_answered
from bot.service import PlanBot
from bot.settings import Settings
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import fake_slack_api
from tests.servers.app import live_app, wait_until
from tests.servers.serve import ServeProcess


def kind_model_only(settings: Settings, target: Path) -> Path:
    """A model cache holding the session's trained kind model and no passage vectors."""
    source = settings.model_cache or settings.data_dir / "models"
    target.mkdir(parents=True)
    for model in source.glob("message-kinds-*.npz"):
        shutil.copy2(model, target / model.name)
    return target


def test_fresh_data_dir_is_alive_at_once_and_answers_events_posted_before_it_was_ready(
        planbot: PlanBot, settings: Settings, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'startup.sqlite3'}"
    with FakeLineApi(LINE_TOKEN).running() as fake_line, fake_slack_api() as fake_slack:
        env = serve_env(tmp_path / "empty-data", database_url, fake_line.url, fake_slack.api_url,
                        {"PLANBOT_MODEL_CACHE": str(kind_model_only(settings, tmp_path / "models"))})
        server = ServeProcess(env, log_path=tmp_path / "serve.log")
        server.start()
        try:
            alive_s = server.wait_alive(timeout_s=120)
            early = httpx.get(f"{server.url}/readyz", timeout=10)
            assert early.status_code == 503 and early.json() == {"status": "starting"}
            assert httpx.get(f"{server.url}/healthz", timeout=10).json() == {"status": "ok", "ready": False}
            plan = build_plan(line=4, slack=2, copies=2, forged_ratio=0.0)  # each twice, as redeliveries come
            results = asyncio.run(post_all(server.url, plan.posts, concurrency=4))
            assert [r.status for r in results] == [200] * len(plan.posts)
            # Acknowledged while still building: the precondition of this test, not a timing assertion.
            assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 503, "ready before the posts"
            held = stored_counts(database_url)[1]
            assert set(held) == plan.valid and set(held.values()) == {1}  # stored once each before any answer
            assert sum(delivered_counts(plan, fake_line, fake_slack).values()) == 0
            ready_s = server.wait_healthy(timeout_s=600)
            wait_answered(plan, plan.valid, fake_line, fake_slack, timeout_s=120)
            wait_until(lambda: stored_counts(database_url)[2] == {"done": len(plan.valid)}, timeout_s=60)
        finally:
            server.terminate()
    delivered = delivered_counts(plan, fake_line, fake_slack)
    assert {key: delivered[key] for key in plan.valid} == dict.fromkeys(plan.valid, 1)
    assert sum(delivered.values()) == len(plan.valid)
    assert "Traceback" not in server.log_text()
    print(f"alive after {alive_s:.1f} s, ready {ready_s:.1f} s later; acks before ready: "
          f"{sorted(round(r.ms) for r in results)} ms")


def test_the_start_up_log_says_what_api_ask_answers(planbot: PlanBot, settings: Settings, tmp_path: Path) -> None:
    production = settings.model_copy(update={
        "environment": "production", "database_url": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "user_hash_salt": SecretStr("a-production-salt-0123456789"),
        "session_secret": SecretStr("a-production-session-secret-0123456789")})
    with_token = production.model_copy(update={"api_token": SecretStr("a-production-api-token-0123456789")})
    development = production.model_copy(update={"environment": "development"})
    for variant, said, status in ((production, "off, answers 404", 404), (with_token, "bearer token", 401),
                                  (development, "on without a token", 200)):
        line = next(line for line in channel_report(variant, "all") if line.startswith("API (/api/ask)"))
        assert said in line, line
        with live_app(create_app(variant, planbot=planbot, channels=[])) as live:
            answered = httpx.post(f"{live.url}/api/ask", json={"question": "除雪"}, timeout=60)
        assert answered.status_code == status, (line, answered.text)
