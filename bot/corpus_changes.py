"""Coverage that changes while the bot runs: scheduled fetches and the admins' additions.

:class:`CoverageService` runs the work that takes long in child processes, one at a time, so
the bot keeps answering meanwhile and a crash (or a decompression bomb, or a feed that takes a
minute to parse) there cannot take the bot down:

* :meth:`~CoverageService.refresh`: ``python -m scripts.fetch`` on ``FEEDS_FILE`` (it fetches,
  then updates the index), every ``FETCH_INTERVAL_MINUTES`` from PTB's JobQueue;
* :meth:`~CoverageService.add_url`: an admin's ``/add URL`` (a page or a feed), fetched by
  ``python -m scripts.fetch --add URL --json`` within :data:`ADD_TIMEOUT_SECONDS`;
* :meth:`~CoverageService.add_document` and :meth:`~CoverageService.remove`: documents and
  ``/remove ID``, through :mod:`ingest.edits` on a worker thread (no network);

then ``python -m scripts.build_index`` updates the index whenever the corpus changed. The
question answerer picks the new version up by itself (``CURRENT`` moves), as with any rebuild;
a failed build leaves the previous version serving. Plain asyncio: no Telegram types.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from bot.children import Children, ChildResult
from bot.settings import BotSettings
from index.corpus.articles import load_file
from index.types import Article, ArticleError, NewsQuoteError
from ingest.edits import Added, Removed, add_document, remove_article
from ingest.names import BadIdError, checked_id
from ingest.summary import FetchSummary, Skip
from ingest.urls import article_id, is_http_url
from ingest.writer import article_path

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Runner(Protocol):
    """Runs a blocking call off the event loop (``BotServices.run``)."""

    def __call__(self, fn: Callable[..., T], *args: object) -> Awaitable[T]: ...


ADD_TIMEOUT_SECONDS = 120.0
"""An /add's fetch, from its first request to its last byte; then its child is stopped."""
CHILD_TIMEOUT_SECONDS = 3600.0
"""A build, or a scheduled fetch and its build (the fetch itself ends within 15 minutes)."""

Done = Literal["added", "updated", "unchanged", "removed", "not_added", "not_removed", "report"]
Outcome = Literal["added", "updated", "unchanged"]


@dataclass(frozen=True)
class ArticleNote:
    """An article an ``/add`` wrote or found unchanged, read back from its file."""

    done: Outcome
    article_id: str
    title: str | None = None
    source: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class CoverageReply:
    """What an admin's request did, for the reply; ``report``: an /add of a feed (or one that
    skipped something), with every article and every skip."""

    done: Done
    article_id: str | None = None
    title: str | None = None
    source: str | None = None
    published: str | None = None
    reason: str | None = None  # why nothing was done ("not_added", "not_removed"), one line
    rebuild_error: str | None = None  # the corpus changed but the index could not be updated
    url: str | None = None  # what was added ("report")
    articles: tuple[ArticleNote, ...] = ()
    skipped: tuple[Skip, ...] = ()


def refuse_add(url: str) -> CoverageReply | None:
    """The reply to an /add whose argument is no http(s) URL (None: it is one)."""
    url = url.strip()
    if is_http_url(url):
        return None
    return CoverageReply("not_added", reason=f"not an http(s) URL: {url[:100]}")


def refuse_remove(target: str) -> CoverageReply | None:
    """The reply to a /remove whose argument is neither a URL nor a valid id (None: it is)."""
    target = target.strip()
    if is_http_url(target):
        return None
    try:
        checked_id(target)
    except BadIdError as exc:
        return CoverageReply("not_removed", reason=str(exc))
    return None


class CoverageService:
    """Fetches, additions and rebuilds for one bot, one at a time."""

    def __init__(self, settings: BotSettings, python: str = sys.executable) -> None:
        self.settings = settings
        self.python = python
        self.corpus = Path(settings.index.corpus_dir)
        self._lock = asyncio.Lock()
        self._children = Children(settings.fetch.child_env())  # FETCH_ALLOW_PRIVATE

    @property
    def busy(self) -> bool:
        """Whether a fetch or a rebuild is running now."""
        return self._lock.locked()

    # ------------------------------------------------------------------ scheduled

    async def refresh(self) -> ChildResult | None:
        """Fetch ``FEEDS_FILE`` and update the index in a child; None when one is running."""
        feeds = self.settings.feeds_file
        if feeds is None:
            return None
        if self.busy:
            logger.info("A fetch or rebuild is still running; this refresh is skipped")
            return None
        async with self._lock:
            result = await self._child(
                CHILD_TIMEOUT_SECONDS, "scripts.fetch", "--feeds", str(feeds)
            )
        log = logger.info if result.ok else logger.warning
        log("Scheduled fetch of %s: %s", feeds, result.line)
        return result

    # ------------------------------------------------------------------ admins

    async def add_url(self, url: str) -> CoverageReply:
        """Fetch a page or a feed into the corpus (in a child) and update the index."""
        refused = refuse_add(url)
        if refused is not None:
            return refused
        url = url.strip()
        args = ["--add", url, "--no-build", "--json", "--run-timeout", f"{ADD_TIMEOUT_SECONDS:g}"]
        async with self._lock:
            result = await self._child(ADD_TIMEOUT_SECONDS + 30, "scripts.fetch", *args)
            summary = _summary_of(result)
            if summary is None:
                return CoverageReply("not_added", reason=result.line)
            rebuild = await self._rebuild() if summary.changed else None
        return self._fetched(url, summary, rebuild)

    async def add_document(self, name: str | None, data: bytes, run: Runner) -> CoverageReply:
        """Save an uploaded document into the corpus and update the index."""
        async with self._lock:
            try:
                added: Added = await run(add_document, self.corpus, name, data)
            except NewsQuoteError as exc:
                return CoverageReply("not_added", reason=str(exc))
            rebuild = await self._rebuild()
        note = self._note("updated" if added.replaced else "added", added.article_id, added.path)
        return _single(note, rebuild)

    async def remove(self, target: str, run: Runner) -> CoverageReply:
        """Delete an article (by id, or by its URL) and update the index."""
        refused = refuse_remove(target)
        if refused is not None:
            return refused
        target = target.strip()
        wanted = article_id(target) if is_http_url(target) else target
        async with self._lock:
            try:
                removed: Removed = await run(remove_article, self.corpus, wanted)
            except NewsQuoteError as exc:
                return CoverageReply("not_removed", reason=str(exc))
            rebuild = await self._rebuild()
        return CoverageReply("removed", wanted, removed.title, rebuild_error=_failure(rebuild))

    # ------------------------------------------------------------------ children

    async def _rebuild(self) -> ChildResult:
        result = await self._child(CHILD_TIMEOUT_SECONDS, "scripts.build_index", "--quiet")
        log = logger.info if result.ok else logger.warning
        log("Rebuild after an admin's change: %s", result.line)
        return result

    async def _child(self, timeout: float, module: str, *args: str) -> ChildResult:
        """Run ``python -m module`` on this bot's corpus and index, for at most ``timeout``."""
        index = self.settings.index
        cmd = [self.python, "-m", module, *args, "--corpus", str(index.corpus_dir)]
        cmd += ["--index", str(index.index_dir), "--model", index.embedding_model]
        return await self._children.run(cmd, timeout)

    async def close(self) -> None:
        """Stop the children still running (the bot is shutting down)."""
        await self._children.close()

    # ------------------------------------------------------------------ replies

    def _fetched(
        self, url: str, summary: FetchSummary, rebuild: ChildResult | None
    ) -> CoverageReply:
        """The reply to an /add: one article, or a report of every article and every skip."""
        outcomes: list[tuple[Outcome, list[str]]] = [
            ("added", summary.new),
            ("updated", summary.updated),
            ("unchanged", summary.unchanged),
        ]
        notes = [self._note(done, article, None) for done, ids in outcomes for article in ids]
        if not notes:
            return CoverageReply("not_added", reason=_skip_reason(summary.skipped))
        if len(notes) == 1 and not summary.skipped:
            return _single(notes[0], rebuild)
        return CoverageReply(
            "report",
            url=url,
            articles=tuple(notes),
            skipped=tuple(summary.skipped),
            rebuild_error=_failure(rebuild),
        )

    def _note(self, done: Outcome, article: str, path: Path | None) -> ArticleNote:
        """``article`` as its file says (title, outlet, date), when it can be read."""
        try:
            found = _read(path or article_path(self.corpus, article))
        except BadIdError:
            found = None
        if found is None:
            return ArticleNote(done, article)
        return ArticleNote(done, article, found.title, found.source, found.published)


def _single(note: ArticleNote, rebuild: ChildResult | None) -> CoverageReply:
    failure = _failure(rebuild) if note.done != "unchanged" else None
    return CoverageReply(
        note.done, note.article_id, note.title, note.source, note.published, rebuild_error=failure
    )


def _summary_of(result: ChildResult) -> FetchSummary | None:
    """The summary an ``scripts.fetch --json`` child printed (None when it printed none)."""
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return None
    try:
        return FetchSummary.from_json(lines[-1])
    except (ValueError, KeyError, TypeError):
        logger.warning("Unreadable summary from scripts.fetch: %.200s", lines[-1])
        return None


def _skip_reason(skipped: list[Skip]) -> str:
    """Why an /add added nothing: the first skip's reason, and how many more there were."""
    if not skipped:
        return "nothing to add (no article page found there)"
    more = f" (and {len(skipped) - 1} more skipped)" if len(skipped) > 1 else ""
    return f"{skipped[0].reason}{more}"


def _read(path: Path) -> Article | None:
    try:
        articles = load_file(path)
    except (ArticleError, OSError):
        return None
    return articles[0] if articles else None


def _failure(result: ChildResult | None) -> str | None:
    return None if result is None or result.ok else result.line
