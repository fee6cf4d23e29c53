"""Typed errors, raised where a failure enters the system. Users never see their text."""

from __future__ import annotations


class PlanBotError(Exception):
    """Base of every error planbot raises on purpose."""


class PlanParseError(PlanBotError):
    """The plan source does not parse, or its totals differ from the ones the document states."""


class IndexBuildError(PlanBotError):
    """The Chroma index could not be opened, built or queried."""


class EmbeddingError(PlanBotError):
    """The embedding model could not be loaded or failed on input."""


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


class ConfigError(PlanBotError):
    """Settings are missing, malformed or unsafe for the environment."""


#: The one sentence a user sees when something went wrong inside planbot.
APOLOGY_JA = (
    "申し訳ありません。ただいま回答を作成できませんでした。時間をおいてもう一度お試しください。"
    "お急ぎの場合は青森市役所（017-734-1111）へお問い合わせください。"
)
APOLOGY_EN = (
    "Sorry, I could not prepare an answer just now. Please try again later, or contact "
    "Aomori City Hall (+81-17-734-1111)."
)
