"""Server mode: the same code against Chroma's own server (CHROMA_HOST/CHROMA_PORT)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.service import build_planbot
from bot.settings import Settings
from bot.types import Question
from tests.servers.chroma import chroma_server


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as port:
        yield port


def test_answers_the_same_against_a_chroma_server(chroma_port: int, tmp_path: Path) -> None:
    settings = Settings(PLANBOT_DATA_DIR=tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=chroma_port)
    bot = build_planbot(settings)
    answer = bot.ask(Question("冬の除雪はどうなる？"))
    assert answer.citations[0].id == "3.2.2"
    assert not (tmp_path / "chroma").exists()  # nothing embedded was written locally


def test_two_processes_indexing_at_once_leave_one_copy(chroma_port: int, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settings = Settings(PLANBOT_DATA_DIR=tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=chroma_port,
                        PLANBOT_COLLECTION="race_test")
    with ThreadPoolExecutor(2) as pool:
        bots = list(pool.map(lambda _: build_planbot(settings), range(2)))
    assert bots[0].retriever.index_count() == len(bots[0].tree.nodes)


def test_the_app_in_server_mode_answers_and_logs_to_postgresql(chroma_port: int, postgres_url: str,
                                                               tmp_path: Path) -> None:
    """Chroma server + PostgreSQL: the same app, only settings differ."""
    import httpx
    from sqlalchemy import select

    from adapters.app import create_app
    from bot.store.models import AnswerRecord
    from tests.servers.app import live_app
    from tests.servers.postgres import fresh_database

    with fresh_database(postgres_url) as database_url:
        settings = Settings(PLANBOT_DATA_DIR=tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=chroma_port,
                            DATABASE_URL=database_url, PLANBOT_ENV="test")
        with live_app(create_app(settings, channels=[])) as live:  # the core loads itself, as in production
            reply = httpx.post(f"{live.url}/api/ask", json={"question": "空き家が増えて心配"}, timeout=30)
            assert reply.status_code == 200 and reply.json()["citations"][0]["id"] == "3.2.3"
            with live.services.database.session() as session:
                rows = session.scalars(select(AnswerRecord)).all()
            assert [r.channel for r in rows] == ["api"]
            assert live.services.database.url.startswith("postgresql")
        assert not (tmp_path / "chroma").exists() and not list(tmp_path.glob("*.sqlite3"))
