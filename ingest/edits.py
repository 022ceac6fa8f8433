"""Coverage added and removed by hand (the bot's admin commands, as a plain Python API).

* :func:`add_url`: fetch one page with the same code as the feeds, into ``<id>.md``;
* :func:`add_document`: a ``.md``, ``.txt`` or ``.html`` file (at most 5 MB) saved into the
  corpus under its own (sanitised) name, after the corpus loader has read it successfully;
* :func:`remove_article`: delete an article's file and remember its id, so that a feed
  listing it does not bring it back (adding its URL by hand does).

Nothing here rebuilds the index; the caller does (the bot in a child process).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from index.corpus.articles import (
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    TEXT_SUFFIXES,
    load_corpus,
    load_file,
)
from index.types import Article, ArticleError, NewsQuoteError
from ingest.lock import corpus_lock
from ingest.names import BadIdError, checked_id, quoted_id
from ingest.run import Fetcher, FetchOptions, FetchSummary
from ingest.state import STATE_FILE, FetchState
from ingest.urls import article_id, is_http_url
from ingest.writer import article_path, atomic_write

__all__ = [
    "DOCUMENT_SUFFIXES",
    "MAX_DOCUMENT_BYTES",
    "Added",
    "CoverageError",
    "Removed",
    "add_document",
    "add_url",
    "remove_article",
]

DOCUMENT_SUFFIXES = MARKDOWN_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class CoverageError(NewsQuoteError):
    """An article cannot be added or removed; the message says why (one line)."""


@dataclass(frozen=True)
class Added:
    """An article saved into the corpus (``replaced``: a file of that name was there)."""

    article_id: str
    title: str
    path: Path
    replaced: bool = False


@dataclass(frozen=True)
class Removed:
    """An article deleted from the corpus."""

    article_id: str
    title: str
    path: Path


def add_url(url: str, options: FetchOptions) -> FetchSummary:
    """Fetch the page at ``url`` into the corpus (even if an admin removed it before).

    Raises:
        CoverageError: ``url`` is not an http(s) URL.
    """
    url = url.strip()
    if not is_http_url(url):
        raise CoverageError(f"not an http(s) URL: {url[:100]!r}")
    with corpus_lock(options.corpus_dir):
        state = _state(options)
        if article_id(url) in state.removed:
            state.removed.discard(article_id(url))
            state.save()
    with Fetcher(options) as fetcher:
        return fetcher.fetch([url])


def add_document(corpus: Path, name: str | None, data: bytes) -> Added:
    """Save an uploaded document into ``corpus`` once the loader has read it.

    Raises:
        CoverageError: wrong type, too large, unreadable, or its id belongs to another file.
    """
    corpus = Path(corpus)
    filename = _safe_name(name or "upload.txt")
    suffix = Path(filename).suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        kinds = ", ".join(sorted(DOCUMENT_SUFFIXES))
        raise CoverageError(f"only {kinds} files can be added, not {suffix or 'this file'}")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CoverageError(
            f"the file is too large ({len(data):,} bytes; at most {MAX_DOCUMENT_BYTES:,})"
        )
    article = _read_as_loader_would(filename, data)
    _check_id(article.id, f"{filename}: ")
    target = corpus / filename
    with corpus_lock(corpus):
        owner = _file_of(corpus, article.id)
        if owner is not None and owner.resolve() != target.resolve():
            rel = owner.relative_to(corpus).as_posix()
            raise CoverageError(
                f"an article with id {quoted_id(article.id)} is already in the corpus ({rel})"
            )
        replaced = target.exists()
        atomic_write(target, data)
    return Added(article.id, article.title, target, replaced)


def remove_article(corpus: Path, article: str, state_file: Path | None = None) -> Removed:
    """Delete the file of the article with id ``article`` and remember the id.

    Raises:
        CoverageError: no such article, or it shares its file (a JSONL line) with others.
    """
    corpus = Path(corpus)
    _check_id(article)
    with corpus_lock(corpus):
        path = _file_of(corpus, article)
        if path is None:
            raise CoverageError(f"no article with id {quoted_id(article)} in the corpus")
        found = load_file(path, relative_to=corpus)
        if len(found) > 1 or path.suffix.lower() == ".jsonl":
            rel = path.relative_to(corpus).as_posix()
            raise CoverageError(
                f"{quoted_id(article)} is one line of {rel}; edit that file by hand"
            )
        path.unlink()
        state = FetchState.load(state_file or corpus / STATE_FILE)
        state.removed.add(article)
        state.save()
    return Removed(article, found[0].title if found else article, path)


def _check_id(article: str, where: str = "") -> None:
    """Refuse an id that cannot name a file in the corpus (one line)."""
    try:
        checked_id(article)
    except BadIdError as exc:
        raise CoverageError(f"{where}{exc}") from None


def _state(options: FetchOptions) -> FetchState:
    return FetchState.load(options.state_file or Path(options.corpus_dir) / STATE_FILE)


def _safe_name(name: str) -> str:
    """A plain file name: no folders, no hidden files, only ``[A-Za-z0-9._-]``."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = _UNSAFE.sub("-", stem).strip(".-_")[:80] or "upload"
    return f"{stem}{_UNSAFE.sub('', suffix)}"


def _read_as_loader_would(filename: str, data: bytes) -> Article:
    """The article the corpus loader will read from ``data`` saved as ``filename``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / filename
        path.write_bytes(data)
        try:
            [article] = load_file(path)
        except ArticleError as exc:
            raise CoverageError(f"cannot read {filename}: {exc}") from None
    return article


def _file_of(corpus: Path, article: str) -> Path | None:
    """The file holding the article ``article`` (fetched ones first, by their name)."""
    direct = article_path(corpus, article)
    if direct.exists():
        return direct
    if not corpus.is_dir():
        return None
    for found in load_corpus(corpus).articles:
        if found.id == article and found.path:
            return corpus / found.path
    return None
