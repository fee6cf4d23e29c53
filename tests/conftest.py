"""Shared fixtures: one real PlanBot (real Chroma, real embeddings) per test session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests that start from an empty data dir share one trained message-kind model (it is keyed by the content
# hash of its data, so sharing is exact); training it once per data dir cost a minute each. Set before any
# Settings is read; servers started by tests get it through tests.servers.serve.PASS_THROUGH.
os.environ.setdefault("PLANBOT_MODEL_CACHE", str(Path(tempfile.gettempdir()) / "planbot-test-models"))

from bot.service import PlanBot, build_planbot
from bot.settings import Settings


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir shared by the session's tests (the index is built once)."""
    return tmp_path_factory.mktemp("planbot-data")


@pytest.fixture(scope="session")
def settings(session_data_dir: Path) -> Settings:
    """Settings for tests: a temp data dir, development environment."""
    return Settings(PLANBOT_DATA_DIR=session_data_dir, PLANBOT_ENV="test")


@pytest.fixture(scope="session")
def planbot(settings: Settings) -> Iterator[PlanBot]:
    """The real bot, built once."""
    yield build_planbot(settings)


def _servers_required() -> bool:
    # CI (./run test) sets this so a missing PostgreSQL fails the run instead of skipping its tests.
    import os

    return os.environ.get("PLANBOT_REQUIRE_SERVERS") == "1"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (Debian's package), on loopback."""
    from tests.servers.postgres import postgres_bin, postgres_server

    if postgres_bin() is None:
        if _servers_required():
            pytest.fail("PostgreSQL is required (PLANBOT_REQUIRE_SERVERS=1) but not installed")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: SQLite under tmp_path, and the same on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'planbot.sqlite3'}"
        return
    from tests.servers.postgres import fresh_database

    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url
