"""What a command line shows when something fails: one line and an exit status.

``python -m bot``, the terminal chat and ``scripts/ask.py`` turn the errors they expect into
:func:`describe`'s :class:`Failure` and print its one line; the README documents the statuses.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from pydantic import ValidationError

from index import wording
from index.config import describe_settings_error
from index.types import IndexNotFoundError, NewsQuoteError, SearchUnavailableError, StorageError

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


_STORAGE_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
_STORAGE_TEXTS = (  # what SQLite (under chromadb) says for the same
    ("disk is full", "the disk is full"),
    ("no space left", "the disk is full"),
    ("readonly database", "the index folder is read-only"),
    ("read-only file system", "the file system is read-only"),
)


def storage_problem(exc: BaseException) -> str | None:
    """What the disk did to ``exc`` (or an exception it was raised from), in a few words: "the
    disk is full", "the file system is read-only" ...; None when it was something else."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _STORAGE_ERRNOS:
            return _STORAGE_ERRNOS[current.errno]
        text = str(current).lower()
        for needle, words in _STORAGE_TEXTS:
            if needle in text:
                return words
        current = current.__cause__ or current.__context__
    return None


def describe(exc: BaseException) -> Failure:
    """The line and exit status for ``exc``."""
    detail = one_line(str(exc))
    if isinstance(exc, ValidationError):
        return Failure(f"error: {describe_settings_error(exc)}", EXIT_BAD_INPUT)
    if isinstance(exc, StorageError):  # rebuilding would not help: no build hint
        return Failure(f"error: {detail}", EXIT_BAD_INPUT)
    if isinstance(exc, IndexNotFoundError):
        return Failure(f"error: {with_build_hint(detail or 'no index found')}", EXIT_BAD_INPUT)
    if isinstance(exc, SearchUnavailableError):
        return Failure(f"error: {search_unavailable(detail)}", EXIT_UNAVAILABLE)
    if isinstance(exc, NewsQuoteError | ValueError | OSError):
        return Failure(f"error: {detail or type(exc).__name__}", EXIT_BAD_INPUT)
    return Failure(one_line(f"error: {type(exc).__name__}: {detail}"), EXIT_UNEXPECTED)
