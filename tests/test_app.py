"""The app under a real uvicorn: health, the JSON API, the answer log and the inbox worker."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from adapters.app import create_app
from adapters.services import Services
from bot.errors import DeliveryError
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.inbox import InboxItem
from bot.store.models import AnswerRecord, InboxEvent
from tests.servers.app import live_app, wait_until


@pytest.fixture()
def app_settings(tmp_path: Path, settings: Settings) -> Settings:
    """A fresh database per test; the session's index is reused."""
    return settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'log.sqlite3'}",
                                       "inbox_lease_seconds": 1.0})


def test_healthz_and_api_ask_logs_the_answer(app_settings: Settings, planbot: PlanBot) -> None:
    with live_app(create_app(app_settings, planbot=planbot, channels=[])) as live:
        assert httpx.get(f"{live.url}/healthz").json()["status"] == "ok"
        reply = httpx.post(f"{live.url}/api/ask", json={"question": "冬の除雪はどうなる？ 電話 090-1234-5678",
                                                        "user_id": "U-raw-42"}, timeout=30)
        assert reply.status_code == 200
        body = reply.json()
        assert body["citations"][0]["id"] == "3.2.2"
        assert "3.2.2" in body["answer"]
        with live.services.database.session() as session:
            row = session.get(AnswerRecord, body["answer_id"])
            assert row is not None
            assert row.channel == "api"
            assert "090-1234-5678" not in row.question and "[電話番号]" in row.question
            assert row.user_hash and "U-raw-42" not in row.user_hash
            assert row.citations[0]["id"] == "3.2.2"


def test_api_rejects_bad_bodies_with_4xx(app_settings: Settings, planbot: PlanBot) -> None:
    with live_app(create_app(app_settings, planbot=planbot, channels=[])) as live:
        assert httpx.post(f"{live.url}/api/ask", content=b"{not json", timeout=10,
                          headers={"content-type": "application/json"}).status_code == 422
        assert httpx.post(f"{live.url}/api/ask", json={"q": "x"}, timeout=10).status_code == 422
        empty = httpx.post(f"{live.url}/api/ask", json={"question": "   "}, timeout=10)
        assert empty.status_code == 200 and empty.json()["answerable"] is False


def test_api_token_is_required_when_configured(app_settings: Settings, planbot: PlanBot) -> None:
    from pydantic import SecretStr

    secured = app_settings.model_copy(update={"api_token": SecretStr("a-long-api-token-for-tests")})
    with live_app(create_app(secured, planbot=planbot, channels=[])) as live:
        assert httpx.post(f"{live.url}/api/ask", json={"question": "雪"}, timeout=10).status_code == 401
        ok = httpx.post(f"{live.url}/api/ask", json={"question": "雪"}, timeout=30,
                        headers={"authorization": "Bearer a-long-api-token-for-tests"})
        assert ok.status_code == 200


class _RecordingChannel:
    """A minimal channel: its handler fails retryably once, then succeeds."""

    def __init__(self) -> None:
        from fastapi import APIRouter

        self.router = APIRouter()
        self.handled: list[str] = []
        self.failures_left = 1
        self.lock = threading.Lock()

    async def startup(self, services: Services) -> None:
        services.handlers["test"] = self.handle

    def handle(self, item: InboxItem) -> None:
        with self.lock:
            if self.failures_left:
                self.failures_left -= 1
                raise DeliveryError("fake 503", retryable=True)
            self.handled.append(item.event_key)


def test_worker_answers_each_accepted_event_once_with_retry(app_settings: Settings, planbot: PlanBot) -> None:
    channel = _RecordingChannel()
    with live_app(create_app(app_settings, planbot=planbot, channels=[channel])) as live:
        services = live.services
        accepted = [services.accept_event("test", f"e{i}", {"n": i}) for i in range(5)]
        assert accepted == [True] * 5
        assert services.accept_event("test", "e1", {"n": 1}) is False
        wait_until(lambda: len(channel.handled) == 5, timeout_s=20)
        assert sorted(channel.handled) == [f"e{i}" for i in range(5)]
        wait_until(lambda: services.inbox.counts() == {"done": 5})
        with services.database.session() as session:
            retried = session.scalars(select(InboxEvent).where(InboxEvent.attempts > 1)).all()
            assert len(retried) == 1
