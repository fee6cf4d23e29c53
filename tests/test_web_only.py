"""`planbot serve --web-only` in process: it stores and acknowledges without the core, and loads the core
only for what needs it (/api/ask here); an `InboxWorker` elsewhere answers what it stored."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from pydantic import SecretStr

from adapters.app import create_app
from adapters.line import LineChannel
from adapters.services import Services
from adapters.worker import InboxWorker
from bot.service import PlanBot
from bot.settings import Settings
from tests.fakes.line_api import FakeLineApi
from tests.servers.app import live_app, wait_until
from tests.test_line_webhook import SECRET, TOKEN, sign, text_event


def test_web_only_acknowledges_without_the_core_and_loads_it_for_api_ask(
        settings: Settings, planbot: PlanBot, tmp_path: Path) -> None:
    with FakeLineApi(TOKEN).running() as fake_line:
        web_settings = settings.model_copy(update={
            "database_url": f"sqlite:///{tmp_path / 'web.sqlite3'}",
            "line_channel_secret": SecretStr(SECRET), "line_channel_access_token": SecretStr(TOKEN),
            "line_api_base_url": fake_line.url, "api_token": None})
        app = create_app(web_settings, channels=[LineChannel(web_settings)], role="web")
        with live_app(app) as live:  # healthy (200) although the core is not loaded
            services = live.services
            assert services.planbot is None
            body = json.dumps({"destination": "Ubot", "events": [text_event("雪対策について教えて")]},
                              ensure_ascii=False).encode()
            response = httpx.post(f"{live.url}/line/webhook", content=body,
                                  headers={"content-type": "application/json", "x-line-signature": sign(body)})
            assert response.status_code == 200
            # Stored before the 200, and nobody in this process answers it: it waits for a worker.
            assert services.inbox.counts() == {"pending": 1}
            assert services.planbot is None and services.handlers.get("line") is not None
            assert httpx.get(f"{live.url}/healthz").status_code == 200
            # Ready for its job (storing events) without the core: answers come from `planbot worker`.
            assert httpx.get(f"{live.url}/readyz").json() == {"status": "ready", "mode": "extractive"}

            answer = httpx.post(f"{live.url}/api/ask", json={"question": "除雪はどうなる？"}, timeout=120)
            assert answer.status_code == 200, answer.text
            assert answer.json()["citations"], answer.json()
            assert services.planbot is not None  # loaded on demand by the first /api/ask

            # A worker (as `planbot worker` runs it) on the same database answers the stored event.
            asyncio.run(_answer_pending(services))
            assert services.inbox.counts() == {"done": 1}
            assert len(fake_line.of("reply")) == 1


async def _answer_pending(services: Services) -> None:
    worker = InboxWorker(services, concurrency=1, idle_poll_s=0.05)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.to_thread(wait_until, lambda: services.inbox.counts() == {"done": 1}, 60)
    finally:
        task.cancel()
        await worker.drain()


def test_web_only_loads_the_core_at_start_when_the_api_token_is_set(
        settings: Settings, planbot: PlanBot, tmp_path: Path) -> None:
    web_settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'web.sqlite3'}",
                                               "api_token": SecretStr("api-token-for-the-web-only-test")})
    app = create_app(web_settings, planbot=None, channels=[], role="web")
    with live_app(app) as live:
        wait_until(lambda: live.services.planbot is not None, timeout_s=120)
        answer = httpx.post(f"{live.url}/api/ask", json={"question": "子育て支援"},
                            headers={"authorization": "Bearer api-token-for-the-web-only-test"}, timeout=60)
        assert answer.status_code == 200, answer.text


def test_web_only_anonymous_review_requests_do_not_load_the_core(settings: Settings, tmp_path: Path) -> None:
    web_settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'web.sqlite3'}"})
    app = create_app(web_settings, channels=None, role="web")
    with live_app(app) as live:
        for path in ("/review", "/review/login", "/review/dashboard"):
            assert httpx.get(f"{live.url}{path}").status_code in (200, 303, 401)
        assert live.services.planbot is None
