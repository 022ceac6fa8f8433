"""Settings of the Telegram side, read from the environment and ``.env``.

Environment names are the field names in upper case: ``TELEGRAM_BOT_TOKEN``,
``TELEGRAM_API_URL``, ``ALLOWED_USER_IDS`` ... The search side (``INDEX_DIR``, ``CORPUS_DIR``,
``EMBEDDING_MODEL``, ``CHROMA_HOST`` ...) is read by :class:`index.config.IndexSettings`, which
these settings carry as ``index`` rather than repeating its fields; the fetcher's
(``FETCH_ALLOW_PRIVATE``) by :class:`ingest.settings.FetchSettings`, carried as ``fetch``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.config import IndexSettings, describe_settings_error
from index.dialogue.conversation import FOLLOWUP_MINUTES
from ingest.settings import FetchSettings

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org/bot"
TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{10,200}$")
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

IdList = Annotated[list[int], NoDecode]


def _parse_ids(value: Any) -> Any:
    """Accept ``"1, 2 3"`` (commas or spaces), a JSON-ish list, or a list of numbers."""
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        parts = [p for p in re.split(r"[\s,;\[\]]+", value) if p]
        for part in parts:
            if not re.fullmatch(r"-?\d+", part):
                raise ValueError(f"expected numeric Telegram ids separated by commas, got {part!r}")
        return [int(p) for p in parts]
    return value


def _load_index_settings() -> IndexSettings:
    """IndexSettings from the environment and ``.env`` (every field has a default)."""
    factory: Callable[..., IndexSettings] = IndexSettings
    return factory()


def _load_fetch_settings() -> FetchSettings:
    """FetchSettings (``FETCH_ALLOW_PRIVATE``) from the environment and ``.env``."""
    factory: Callable[..., FetchSettings] = FetchSettings
    return factory()


class BotSettings(BaseSettings):
    """Everything the Telegram bot needs; ``index`` holds the search-side settings."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, allow_inf_nan=False
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None,
        description="The token from @BotFather; without it `python -m bot` is a terminal chat.",
    )
    telegram_api_url: str = Field(
        default=DEFAULT_API_URL,
        description="Bot API base URL (python-telegram-bot's base_url); the token is appended.",
    )
    telegram_startup_retries: int = Field(
        default=5,
        ge=-1,
        description="Retries of the start-up calls (getMe, deleteWebhook or setWebhook) after "
        "network errors, waiting 1 s and then up to 1.5 times longer each time (at most 30 s); "
        "-1: until they succeed. A rejected token is never retried.",
    )
    index: IndexSettings = Field(default_factory=lambda: _load_index_settings())
    fetch: FetchSettings = Field(default_factory=lambda: _load_fetch_settings())

    allowed_user_ids: IdList = Field(default_factory=list, description="Empty: everyone.")
    allowed_chat_ids: IdList = Field(default_factory=list, description="Empty: every chat.")
    admin_user_ids: IdList = Field(
        default_factory=list, description="Always allowed, never rate limited, told about errors."
    )

    followup_minutes: float = Field(
        default=FOLLOWUP_MINUTES,
        ge=0,
        le=24 * 60,
        description="How long a chat's last question is kept for follow-up questions ("
        '"and what did he give him?"); 0: every question stands alone.',
    )
    rate_limit_questions: int = Field(
        default=10, ge=0, description="Questions per user per window; 0: off."
    )
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    max_question_chars: int = Field(default=500, ge=10, le=4000)
    qa_workers: int = Field(default=4, ge=1, le=64, description="Threads answering questions.")

    bot_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL Telegram posts updates to."
    )
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_path: str = ""
    webhook_secret: SecretStr | None = None

    health_port: int | None = Field(
        default=None, ge=1, le=65535, description="Serve GET /healthz on this port; unset: off."
    )
    health_listen: str = Field(
        default="127.0.0.1", description="Address of the health check (0.0.0.0: every interface)."
    )

    feeds_file: Path | None = Field(
        default=None,
        description="A feed list (one feed or page URL a line, or OPML): the running bot "
        "fetches it every FETCH_INTERVAL_MINUTES and rebuilds the index in a child process.",
    )
    fetch_interval_minutes: float = Field(
        default=60.0, gt=0, le=7 * 24 * 60, description="Minutes between scheduled fetches."
    )

    log_level: str = "INFO"

    @field_validator("telegram_bot_token", "webhook_secret", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_RE.match(value.get_secret_value().strip()):
            # Never echo the value: it is a secret even when malformed.
            raise ValueError("does not look like a bot token from @BotFather (<digits>:<secret>)")
        return SecretStr(value.get_secret_value().strip()) if value is not None else None

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not SECRET_TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL such as http://127.0.0.1:8081/bot")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value.strip()):
            raise ValueError("must be an https:// URL that Telegram can reach")
        return value.strip() if value else None

    @field_validator("allowed_user_ids", "allowed_chat_ids", "admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        return _parse_ids(value)

    @field_validator("feeds_file", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_level(cls, value: Any) -> str:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> BotSettings:
        if self.bot_mode == "webhook" and not self.webhook_url:
            raise ValueError("BOT_MODE=webhook needs WEBHOOK_URL")
        if self.bot_mode == "webhook" and self.health_port == self.webhook_port:
            raise ValueError("HEALTH_PORT must differ from WEBHOOK_PORT")
        return self

    @property
    def token(self) -> str | None:
        """The bot token in clear, or None for the terminal chat. Never log it."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None

    def secrets(self) -> list[str]:
        """Values that must never appear in logs or error messages."""
        values = [
            self.token,
            self.webhook_secret.get_secret_value() if self.webhook_secret else None,
        ]
        return [v for v in values if v]

    def webhook_options(self) -> dict[str, Any]:
        """Keyword arguments shared by ``Application.run_webhook`` and ``Updater.start_webhook``."""
        path = self.webhook_path.strip("/")
        url = self.webhook_url or ""
        if path and url and not url.rstrip("/").endswith("/" + path):
            url = url.rstrip("/") + "/" + path
        return {
            "listen": self.webhook_listen,
            "port": self.webhook_port,
            "url_path": path,
            "webhook_url": url or None,
            "secret_token": self.webhook_secret.get_secret_value() if self.webhook_secret else None,
        }


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first invalid setting by its environment name (values not shown)."""
    return describe_settings_error(exc)
