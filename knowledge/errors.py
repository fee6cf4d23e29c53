"""Typed errors of the knowledge layer. They live here, below `bot/`, because `knowledge/` imports nothing
from `bot/`; `bot.errors` re-exports them so callers catch one family (`PlanBotError`)."""

from __future__ import annotations


class PlanBotError(Exception):
    """Base of every error planbot raises on purpose."""


class PlanParseError(PlanBotError):
    """The plan source does not parse, or its totals differ from the ones the document states."""


class IndexBuildError(PlanBotError):
    """The Chroma index could not be opened, built or queried."""


class EmbeddingError(PlanBotError):
    """The embedding model could not be loaded or failed on input."""


class ConfigError(PlanBotError):
    """Settings or data files are missing, malformed or unsafe for the environment."""
