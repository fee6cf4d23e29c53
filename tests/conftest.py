"""Shared fixtures: one real PlanBot (real Chroma, real embeddings) per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
