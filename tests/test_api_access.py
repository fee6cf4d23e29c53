"""`POST /api/ask` access: bearer token when configured; without one, 404 in production and, in development,
a limit per client address (429 with Retry-After). Its traffic is channel `api` in the log."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from adapters.app import create_app
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.models import AnswerRecord
from tests.servers.app import live_app

STRONG = "a-strong-secret-for-production-0123456789"


def test_open_api_is_404_in_production(settings: Settings, planbot: PlanBot, tmp_path: Path) -> None:
    production = settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'prod.sqlite3'}", "environment": "production",
        "user_hash_salt": SecretStr(STRONG), "session_secret": SecretStr(STRONG + "x")})
    with live_app(create_app(production, planbot=planbot, channels=[])) as live:
        reply = httpx.post(f"{live.url}/api/ask", json={"question": "冬の除雪はどうなる？"}, timeout=30)
        assert reply.status_code == 404
        with live.services.database.session() as session:
            assert session.scalars(select(AnswerRecord)).all() == []
    secured = production.model_copy(update={"api_token": SecretStr("backend-token-0123456789")})
    with live_app(create_app(secured, planbot=planbot, channels=[])) as live:
        assert httpx.post(f"{live.url}/api/ask", json={"question": "雪"}, timeout=30).status_code == 401
        ok = httpx.post(f"{live.url}/api/ask", json={"question": "雪"}, timeout=30,
                        headers={"authorization": "Bearer backend-token-0123456789"})
        assert ok.status_code == 200


def test_open_api_in_development_is_limited_per_address(settings: Settings, planbot: PlanBot,
                                                         tmp_path: Path) -> None:
    development = settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'dev.sqlite3'}", "environment": "development",
        "api_rate_limit_per_minute": 3, "rate_limit_per_minute": 100})
    with live_app(create_app(development, planbot=planbot, channels=[])) as live:
        statuses = []
        retry_after = None
        for n in range(7):  # any one minute boundary still leaves 4 calls in one minute
            reply = httpx.post(f"{live.url}/api/ask", json={"question": "子育ての支援は？", "user_id": f"chosen-{n}"},
                               timeout=30)
            statuses.append(reply.status_code)
            if reply.status_code == 429:
                retry_after = reply.headers.get("retry-after")
        # Limit 3 per clock minute: the first three are answered, and some later one is refused.
        assert statuses[:3] == [200, 200, 200] and 429 in statuses
        assert retry_after is not None and 1 <= int(retry_after) <= 60
        with live.services.database.session() as session:
            rows = session.scalars(select(AnswerRecord)).all()
        assert len(rows) == statuses.count(200)
        assert {row.channel for row in rows} == {"api"}
        assert len({row.user_hash for row in rows}) == 1  # counted per address, not per self-chosen user_id
