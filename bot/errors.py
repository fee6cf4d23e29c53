"""Typed errors, raised where a failure enters the system. Users never see their text."""

from __future__ import annotations

from knowledge.errors import ConfigError, EmbeddingError, IndexBuildError, PlanBotError, PlanParseError

__all__ = [
    "APOLOGY_EN", "APOLOGY_JA", "ConfigError", "DeliveryError", "EmbeddingError", "IndexBuildError", "LLMError",
    "PlanBotError", "PlanParseError", "StorageError",
]


class LLMError(PlanBotError):
    """The optional LLM failed, timed out or answered outside the rules."""


class StorageError(PlanBotError):
    """The answer log or event store could not be written or read."""


class DeliveryError(PlanBotError):
    """A platform API (LINE, Slack) refused or failed to take our reply.

    `retryable` is True for 429, 5xx and network errors: the event is tried again with backoff.
    """

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


#: The one sentence a user sees when something went wrong inside planbot.
APOLOGY_JA = (
    "申し訳ありません。ただいま回答を作成できませんでした。時間をおいてもう一度お試しください。"
    "お急ぎの場合は青森市役所（017-734-1111）へお問い合わせください。"
)
APOLOGY_EN = (
    "Sorry, I could not prepare an answer just now. Please try again later, or contact "
    "Aomori City Hall (+81-17-734-1111)."
)
