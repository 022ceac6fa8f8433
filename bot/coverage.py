"""Coverage that changes while the bot runs: scheduled fetches and the admins' additions.

:class:`CoverageService` runs the work that takes long in child processes, one at a time, so
the bot keeps answering meanwhile and a crash there cannot take the bot down:

* :meth:`~CoverageService.refresh`: ``python -m scripts.fetch`` on ``FEEDS_FILE`` (it fetches,
  then updates the index), every ``FETCH_INTERVAL_MINUTES`` from PTB's JobQueue;
* :meth:`~CoverageService.add_url`, :meth:`~CoverageService.add_document` and
  :meth:`~CoverageService.remove`: the admins' ``/add URL``, documents and ``/remove ID``; the
  corpus changes through :mod:`ingest.coverage` (on a worker thread), then
  ``python -m scripts.build_index`` updates the index.

The question answerer picks the new version up by itself (``CURRENT`` moves), as with any
rebuild; a failed build leaves the previous version serving. Plain asyncio: no Telegram types.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from bot.settings import BotSettings
from index.articles import load_file
from index.types import Article, ArticleError, NewsQuoteError
from ingest.coverage import Added, Removed, add_document, add_url, remove_article
from ingest.http import FetchPolicy
from ingest.run import FetchOptions, FetchSummary
from ingest.urls import article_id, is_http_url
from ingest.writer import article_path

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Runner(Protocol):
    """Runs a blocking call off the event loop (``BotServices.run``)."""

    def __call__(self, fn: Callable[..., T], *args: object) -> Awaitable[T]: ...


CHILD_TIMEOUT_SECONDS = 3600.0
SECRET_SETTINGS = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET")
"""Never passed to a child: it does not need them."""


@dataclass(frozen=True)
class ChildResult:
    """How a child command ended: its status and its last line (the summary or the error)."""

    status: int
    line: str

    @property
    def ok(self) -> bool:
        return self.status == 0


Done = Literal["added", "updated", "unchanged", "removed", "not_added", "not_removed"]


@dataclass(frozen=True)
class CoverageReply:
    """What an admin's request did, for the reply."""

    done: Done
    article_id: str | None = None
    title: str | None = None
    source: str | None = None
    published: str | None = None
    reason: str | None = None  # why nothing was done ("not_added", "not_removed"), one line
    rebuild_error: str | None = None  # the corpus changed but the index could not be updated


class CoverageService:
    """Fetches, additions and rebuilds for one bot, one at a time."""

    def __init__(self, settings: BotSettings, python: str = sys.executable) -> None:
        self.settings = settings
        self.python = python
        self.corpus = Path(settings.index.corpus_dir)
        self._lock = asyncio.Lock()
        self._children: set[asyncio.subprocess.Process] = set()

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
            result = await self._child("scripts.fetch", "--feeds", str(feeds))
        log = logger.info if result.ok else logger.warning
        log("Scheduled fetch of %s: %s", feeds, result.line)
        return result

    # ------------------------------------------------------------------ admins

    async def add_url(self, url: str, run: Runner) -> CoverageReply:
        """Fetch one page into the corpus and update the index."""
        url = url.strip()
        if not is_http_url(url):
            return CoverageReply("not_added", reason=f"not an http(s) URL: {url[:100]}")
        policy = FetchPolicy(allow_private=self.settings.fetch.fetch_allow_private)
        options = FetchOptions(corpus_dir=self.corpus, policy=policy)
        async with self._lock:
            try:
                summary: FetchSummary = await run(add_url, url, options)
            except NewsQuoteError as exc:
                return CoverageReply("not_added", reason=str(exc))
            if summary.skipped:
                return CoverageReply("not_added", reason=summary.skipped[0].reason)
            done: Done = "added" if summary.new else "updated" if summary.updated else "unchanged"
            ids = summary.new or summary.updated or summary.unchanged
            rebuild = await self._rebuild() if done != "unchanged" else None
        article = ids[0] if ids else article_id(url)
        return self._reply(done, article, article_path(self.corpus, article), rebuild)

    async def add_document(self, name: str | None, data: bytes, run: Runner) -> CoverageReply:
        """Save an uploaded document into the corpus and update the index."""
        async with self._lock:
            try:
                added: Added = await run(add_document, self.corpus, name, data)
            except NewsQuoteError as exc:
                return CoverageReply("not_added", reason=str(exc))
            rebuild = await self._rebuild()
        done: Done = "updated" if added.replaced else "added"
        return self._reply(done, added.article_id, added.path, rebuild)

    async def remove(self, target: str, run: Runner) -> CoverageReply:
        """Delete an article (by id, or by its URL) and update the index."""
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
        result = await self._child("scripts.build_index", "--quiet")
        log = logger.info if result.ok else logger.warning
        log("Rebuild after an admin's change: %s", result.line)
        return result

    async def _child(self, module: str, *args: str) -> ChildResult:
        """Run ``python -m module`` on this bot's corpus and index; its status and last line."""
        index = self.settings.index
        cmd = [self.python, "-m", module, *args, "--corpus", str(index.corpus_dir)]
        cmd += ["--index", str(index.index_dir), "--model", index.embedding_model]
        nice = shutil.which("nice")
        if nice:
            cmd = [nice, "-n", "10", *cmd]  # the bot's answers come first
        process = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._child_env(),
        )
        self._children.add(process)
        try:
            out, err = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
            return ChildResult(-9, f"stopped after {CHILD_TIMEOUT_SECONDS:.0f} s")
        finally:
            self._children.discard(process)
        status = process.returncode if process.returncode is not None else -1
        text = (out if status == 0 else err or out).decode("utf-8", "replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return ChildResult(status, _summary_line(lines, status))

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SECRET_SETTINGS}
        env.update(self.settings.fetch.child_env())  # FETCH_ALLOW_PRIVATE, as this bot has it
        env.setdefault("EMBED_WORKERS", "1")  # one core for the build, the rest for answers
        env.setdefault("HF_HUB_OFFLINE", "1")
        return env

    async def close(self) -> None:
        """Stop the children still running (the bot is shutting down)."""
        for process in list(self._children):
            if process.returncode is None:
                process.kill()
                await process.wait()

    def _reply(
        self, done: Done, article: str, path: Path, rebuild: ChildResult | None
    ) -> CoverageReply:
        """The reply about ``article`` (its file at ``path``, read back for title and outlet)."""
        found = _read(path)
        return CoverageReply(
            done,
            article,
            found.title if found else None,
            found.source if found else None,
            found.published if found else None,
            rebuild_error=_failure(rebuild),
        )


def _read(path: Path) -> Article | None:
    try:
        articles = load_file(path)
    except (ArticleError, OSError):
        return None
    return articles[0] if articles else None


def _failure(result: ChildResult | None) -> str | None:
    return None if result is None or result.ok else result.line


def _summary_line(lines: list[str], status: int) -> str:
    """The line that says what a child did: the error, or the first line of its summary."""
    if not lines:
        return "no output" if status == 0 else f"exit status {status}"
    if status != 0:
        return next((ln for ln in reversed(lines) if ln.startswith("error")), lines[-1])
    return next((ln for ln in lines if ln.startswith(("Fetched", "Built", "Index"))), lines[0])
