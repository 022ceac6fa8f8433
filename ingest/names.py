"""Article ids as file names: the one check an id passes before it becomes a path.

An id names ``<id>.md`` in the corpus folder, so it must be one plain path segment: not empty,
not ``.`` or ``..``, not hidden (the corpus loader skips hidden files), no ``/`` or ``\\``, no
control or format characters, and short enough for a file name (at most
:data:`MAX_ID_BYTES` bytes of UTF-8). Ids from the fetcher (16 hex digits) always pass; an id
typed by an admin (``/remove``), read from an uploaded document's front matter or from the
fetch state file is checked here.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from index.corpus.text import shown
from index.types import NewsQuoteError

__all__ = ["MAX_ID_BYTES", "BadIdError", "article_file", "checked_id", "quoted_id"]

MAX_ID_BYTES = 200  # "<id>.md" must fit in the 255 bytes a file name may have
SHOWN_ID_CHARS = 60
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class BadIdError(NewsQuoteError):
    """A text that cannot be an article id (a file name in the corpus); one line naming it."""


def quoted_id(article_id: str) -> str:
    """``article_id`` quoted for a one-line message: control characters escaped, shortened."""
    text = shown(article_id)
    if len(text) > SHOWN_ID_CHARS:
        text = text[: SHOWN_ID_CHARS - 1] + "…"
    return repr(text)


def _problem(article_id: str) -> str | None:
    """Why ``article_id`` cannot name a file in the corpus, or None when it can."""
    if not article_id.strip():
        return "it is empty"
    if "/" in article_id or "\\" in article_id:
        return "an id is a name, not a path: no '/' or '\\'"
    if article_id.startswith("."):
        return "it starts with a dot"
    if article_id != article_id.strip():
        return "it starts or ends with a space"
    if any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in article_id):
        return "it holds control or invisible characters"
    size = len(article_id.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        return f"it is {size} bytes long; at most {MAX_ID_BYTES}"
    return None


def checked_id(article_id: str) -> str:
    """``article_id`` when it can name a file in the corpus.

    Raises:
        BadIdError: it cannot (one line naming the id and why).
    """
    problem = _problem(article_id)
    if problem is not None:
        raise BadIdError(f"not a valid article id: {quoted_id(article_id)} ({problem})")
    return article_id


def article_file(corpus: Path, article_id: str) -> Path:
    """``<corpus>/<id>.md``, for a checked id, never outside the corpus folder.

    Raises:
        BadIdError: ``article_id`` is not a valid id.
    """
    path = Path(corpus) / f"{checked_id(article_id)}.md"
    # Belt and braces: the checks above leave no way out of the folder.
    if os.path.dirname(os.path.abspath(path)) != os.path.abspath(corpus):
        raise BadIdError(f"not a valid article id: {quoted_id(article_id)} (outside the corpus)")
    return path
