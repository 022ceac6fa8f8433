"""What a command line shows when something fails: one line and an exit status.

``python -m bot``, the terminal chat and ``scripts/ask.py`` turn the errors they expect into
:func:`describe`'s :class:`Failure` and print its one line; the README documents the statuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from index import wording
from index.config import describe_settings_error
from index.types import IndexNotFoundError, NewsQuoteError, SearchUnavailableError

EXIT_OK = 0
EXIT_UNEXPECTED = 1
"""An error nobody foresaw (the message names its type)."""
EXIT_BAD_INPUT = 2
"""Bad input or settings, or no usable index."""
EXIT_UNAVAILABLE = 3
"""The search backend (a Chroma server) does not answer."""

BUILD_HINT = (
    "build it with `make index` or `python -m scripts.build_index --corpus DIR --index DIR`"
)


@dataclass(frozen=True, slots=True)
class Failure:
    """An error as a command line reports it."""

    message: str
    """One line, starting with ``error: ``."""
    status: int
    """The exit status."""


def one_line(text: str) -> str:
    """``text`` with all whitespace (newlines too) collapsed."""
    return " ".join(text.split())


def with_build_hint(message: str) -> str:
    """``message`` and how to build an index, unless it says so already."""
    if "build_index" in message or "make index" in message:
        return message
    return f"{message}; {BUILD_HINT}"


def search_unavailable(detail: str = "") -> str:
    """``search is temporarily unavailable: <detail>``, for error lines."""
    lead = wording.SEARCH_UNAVAILABLE.lower()
    return one_line(f"{lead}: {detail}" if detail else lead)


def describe(exc: BaseException) -> Failure:
    """The line and exit status for ``exc``."""
    detail = one_line(str(exc))
    if isinstance(exc, ValidationError):
        return Failure(f"error: {describe_settings_error(exc)}", EXIT_BAD_INPUT)
    if isinstance(exc, IndexNotFoundError):
        return Failure(f"error: {with_build_hint(detail or 'no index found')}", EXIT_BAD_INPUT)
    if isinstance(exc, SearchUnavailableError):
        return Failure(f"error: {search_unavailable(detail)}", EXIT_UNAVAILABLE)
    if isinstance(exc, NewsQuoteError | ValueError | OSError):
        return Failure(f"error: {detail or type(exc).__name__}", EXIT_BAD_INPUT)
    return Failure(one_line(f"error: {type(exc).__name__}: {detail}"), EXIT_UNEXPECTED)
