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
