"""Settings of the fetcher, read from the environment and ``.env`` (``FETCH_ALLOW_PRIVATE``).

``scripts.fetch`` reads them, and the bot carries them (``BotSettings.fetch``) and hands them
to the fetches it runs in child processes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest.addresses import PrivateAllowList

__all__ = ["FetchSettings"]

ALLOW_PRIVATE_ENV = "FETCH_ALLOW_PRIVATE"


class FetchSettings(BaseSettings):
    """What the fetcher may reach beyond the public internet."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    fetch_allow_private: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated host names, IP addresses and CIDR blocks that may be "
        "private (an intranet feed); every other private, loopback or link-local address is "
        "refused. Empty: none.",
    )

    @field_validator("fetch_allow_private", mode="before")
    @classmethod
    def _entries(cls, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str | list | tuple):
            return PrivateAllowList.parse(value).entries()
        raise ValueError("must be comma-separated host names, IP addresses or CIDR blocks")

    def child_env(self) -> dict[str, str]:
        """These settings as a child process's environment."""
        return {ALLOW_PRIVATE_ENV: ",".join(self.fetch_allow_private)}
