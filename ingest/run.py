"""Fetch the sources of a feed list into the corpus folder: the work behind ``scripts.fetch``.

1. Every source (a feed or a single page) is fetched; a feed gives its newest entries, at most
   ``max_entries`` of them.
2. Links are de-duplicated by canonical URL; every article page is fetched (conditionally,
   when the corpus still holds the copy the remembered ETag / Last-Modified belong to) and its
   article extracted.
3. The articles and the state file are written under the corpus lock (:mod:`ingest.lock`),
   against the state as it is then (an article an admin removed meanwhile is not written).
   Nothing that fails removes or damages an article already in the corpus: every failure is
   one :class:`Skip` line in the :class:`FetchSummary`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ingest.extract import ExtractionError, Page, extract_page
from ingest.feeds import (
    FEED_CONTENT_TYPES,
    Feed,
    FeedEntry,
    FeedError,
    looks_like_feed,
    newest_entries,
    parse_feed,
    read_feed_list,
)
from ingest.http import HTML_TYPES, FetchError, FetchPolicy, PoliteClient, Response, Validators
from ingest.lock import corpus_lock
from ingest.state import STATE_FILE, FetchState
from ingest.summary import FetchSummary, Skip
from ingest.urls import article_id, canonical_url
from ingest.writer import article_path, remove_leftovers, write_page

logger = logging.getLogger(__name__)

__all__ = ["RUN_TIMEOUT", "FetchOptions", "FetchSummary", "Fetcher", "Skip", "run_fetch"]

SOURCE_TYPES = HTML_TYPES | FEED_CONTENT_TYPES
RUN_TIMEOUT = 900.0  # seconds for a whole run; what is not fetched by then is skipped
REMOVED = "removed from the corpus by an admin; adding the URL by hand brings it back"


@dataclass(frozen=True)
class FetchOptions:
    """Where articles go, and how much one run fetches."""

    corpus_dir: Path
    state_file: Path | None = None  # default: .fetch-state.json in the corpus folder
    max_entries: int = 100  # per feed and run, newest first
    workers: int = 8  # pages fetched at once (still at most policy.per_host per host)
    policy: FetchPolicy = field(default_factory=FetchPolicy)
    run_timeout: float = RUN_TIMEOUT  # seconds for the whole run (each fetch() call)

    def __post_init__(self) -> None:
        if self.max_entries < 1 or self.workers < 1:
            raise ValueError("max_entries and workers must be at least 1")
        if self.run_timeout <= 0:
            raise ValueError("run_timeout must be positive")


@dataclass(frozen=True)
class _Job:
    """An article page to fetch (or, for a page named in the list, already fetched)."""

    url: str
    entry: FeedEntry | None = None
    feed_title: str | None = None
    feed_url: str | None = None
    response: Response | None = None


@dataclass(frozen=True)
class _Done:
    """The outcome of one job in a worker: a page to write, a 304, or a skip."""

    job: _Job
    article_id: str
    page: Page | None = None
    validators: Validators = field(default_factory=Validators)
    not_modified: bool = False
    skip: str | None = None


def run_fetch(feeds_file: Path, options: FetchOptions) -> FetchSummary:
    """Fetch every source listed in ``feeds_file`` into ``options.corpus_dir``.

    Raises:
        FeedListError: the feed list is missing, unreadable or names nothing.
    """
    feed_list = read_feed_list(feeds_file)
    with Fetcher(options) as fetcher:
        summary = fetcher.fetch(feed_list.urls)
    summary.skipped[:0] = [Skip(str(feeds_file), p) for p in feed_list.problems]
    return summary


class Fetcher:
    """Fetches sources into one corpus folder; :meth:`fetch` may be called more than once."""

    def __init__(
        self,
        options: FetchOptions,
        *,
        client: PoliteClient | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.options = options
        self.corpus = Path(options.corpus_dir)
        self.client = client or PoliteClient(options.policy)
        self._own_client = client is None
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._until: float | None = None  # time.monotonic() by which the current run ends

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def fetch(self, urls: Sequence[str]) -> FetchSummary:
        """Fetch ``urls`` (feeds or pages) and write their articles."""
        started = time.perf_counter()
        self._until = time.monotonic() + self.options.run_timeout
        self.corpus.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.corpus)
        state = FetchState.load(self._state_file)  # what is known at the start
        summary = FetchSummary(sources=len(urls))
        with ThreadPoolExecutor(self.options.workers, thread_name_prefix="fetch") as pool:
            sources = [pool.submit(self._read_source, url, state) for url in urls]
            jobs: list[_Job] = []
            for url, future in zip(urls, sources, strict=True):
                jobs += self._collect(url, future, summary, state)
            jobs = self._wanted(_unique(jobs, summary), state, summary)
            pages = [pool.submit(self._fetch_page, job, state) for job in jobs]
            done = [page.result() for page in pages]
        self._commit(done, state, summary)
        summary.seconds = time.perf_counter() - started
        return summary

    @property
    def _state_file(self) -> Path:
        return self.options.state_file or self.corpus / STATE_FILE

    def _commit(self, done: list[_Done], state: FetchState, summary: FetchSummary) -> None:
        """Write the pages and the state under the corpus lock, against the state as it is
        now: an article an admin removed during the run stays removed, and what another
        process remembered meanwhile is kept."""
        with corpus_lock(self.corpus):
            fresh = FetchState.load(self._state_file)
            fresh.adopt(state)
            self._write_all(done, fresh, summary)
            fresh.save()

    # ------------------------------------------------------------------ sources

    def _read_source(self, url: str, state: FetchState) -> Response:
        """GET a source, conditionally when what it gave last time is still at hand."""
        remembered = state.get(url)
        validators = None
        if remembered is not None and (
            remembered.feed is not None
            or (
                remembered.article_id is not None
                and article_path(self.corpus, remembered.article_id).exists()
            )
        ):
            validators = remembered.validators
        return self.client.get(url, accept=SOURCE_TYPES, validators=validators, until=self._until)

    def _collect(
        self, url: str, future: Future[Response], summary: FetchSummary, state: FetchState
    ) -> list[_Job]:
        """The article jobs one source gives (none when it failed: one skip line).

        A feed that answers 304 gives the entries taken from it last time: their pages are
        still checked (conditionally), since a correction need not change the feed.
        """
        remembered = state.get(url)
        response = self._response(url, future, summary, state)
        if response is None:
            return []
        summary.sources_read += 1
        if response.not_modified and remembered is not None and remembered.feed is not None:
            feed = remembered.feed
            return [_Job(e.link, e, feed.title, url) for e in feed.entries]
        if response.not_modified or not looks_like_feed(response.content_type, response.body):
            return [_Job(url, response=response)]
        try:
            feed = parse_feed(response.body, response.final_url, response.content_type)
        except FeedError as exc:
            summary.skipped.append(Skip(url, str(exc)))
            return []
        entries, left_out = newest_entries(feed.entries, self.options.max_entries)
        state.remember(url, response.validators, feed=Feed(url, feed.title, entries))
        if feed.problem:
            summary.notes.append(f"{url}: {feed.problem}; read {len(feed.entries)} entries")
        if left_out:
            summary.notes.append(
                f"{url}: {left_out} older entries not fetched (at most "
                f"{self.options.max_entries} a run, newest first)"
            )
        summary.skipped += [Skip(url, f"entry {problem}") for problem in feed.unusable]
        return [_Job(e.link, e, feed.title, url) for e in entries]

    def _response(
        self, url: str, future: Future[Response], summary: FetchSummary, state: FetchState
    ) -> Response | None:
        """What a source answered; None, after a skip line, when it failed."""
        try:
            return future.result()
        except FetchError as exc:
            remembered = state.get(url)
            known = remembered.article_id if remembered else None
            summary.skipped.append(Skip(url, self._kept(str(exc), known or article_id(url))))
        except Exception as exc:  # a bug or a library failure: one source must not stop the run
            logger.exception("unexpected error while fetching %s", url)
            summary.skipped.append(Skip(url, f"unexpected error: {_describe(exc)}"))
        return None

    # ------------------------------------------------------------------ pages

    def _fetch_page(self, job: _Job, state: FetchState) -> _Done:
        """Fetch and extract one article page (in a worker thread)."""
        remembered = state.get(job.url)
        known_id = remembered.article_id if remembered else None
        guess = known_id or article_id(job.url)
        try:
            response = job.response
            if response is None:
                validators = None
                if known_id and remembered and article_path(self.corpus, known_id).exists():
                    validators = remembered.validators
                response = self.client.get(
                    job.url, accept=HTML_TYPES, validators=validators, until=self._until
                )
            if response.not_modified:
                if known_id is None:  # a 304 to a request without validators
                    return _Done(job, "", skip="HTTP 304 Not Modified to an unconditional GET")
                return _Done(job, known_id, validators=response.validators, not_modified=True)
            if response.content_type not in HTML_TYPES:
                raise FetchError(f"not an HTML page (content type {response.content_type})")
            page = extract_page(
                response.body,
                canonical_url(response.final_url),
                charset=response.charset,
                entry=job.entry,
                feed_title=job.feed_title,
            )
            return _Done(job, article_id(response.final_url), page, response.validators)
        except FetchError as exc:
            return _Done(job, guess, skip=str(exc))
        except ExtractionError as exc:
            return _Done(job, guess, skip=str(exc))
        except Exception as exc:  # a bug or a library failure: one page must not stop the run
            logger.exception("unexpected error while fetching %s", job.url)
            return _Done(job, guess, skip=f"unexpected error: {_describe(exc)}")

    def _write_all(self, pages: list[_Done], state: FetchState, summary: FetchSummary) -> None:
        """Write the pages in list order."""
        written: dict[str, str] = {}  # article id -> the link that gave it
        for done in pages:
            job = done.job
            if done.skip is not None:
                summary.skipped.append(Skip(job.url, self._kept(done.skip, done.article_id)))
            elif done.not_modified:
                summary.not_modified += 1
                summary.unchanged.append(done.article_id)
                state.remember(job.url, done.validators, done.article_id)
            elif done.article_id in state.removed:
                summary.fetched += 1
                summary.skipped.append(Skip(job.url, REMOVED))
            elif done.article_id in written:
                first = written[done.article_id]
                summary.fetched += 1
                summary.skipped.append(Skip(job.url, f"same article as {first} (a redirect)"))
            else:
                summary.fetched += 1
                written[done.article_id] = job.url
                self._write(done, state, summary)

    def _write(self, done: _Done, state: FetchState, summary: FetchSummary) -> None:
        assert done.page is not None
        stamp = self._now().replace(microsecond=0).isoformat().replace("+00:00", "Z")
        try:
            result = write_page(self.corpus, done.article_id, done.page, stamp)
        except OSError as exc:
            summary.skipped.append(Skip(done.job.url, f"cannot write the article: {exc}"))
            return
        if result.outcome == "kept":
            summary.skipped.append(Skip(done.job.url, result.reason or "kept the earlier copy"))
            return
        {"new": summary.new, "updated": summary.updated, "unchanged": summary.unchanged}[
            result.outcome
        ].append(done.article_id)
        state.remember(done.job.url, done.validators, done.article_id)

    @staticmethod
    def _wanted(jobs: list[_Job], state: FetchState, summary: FetchSummary) -> list[_Job]:
        """``jobs`` without the links to articles an admin removed."""
        wanted = []
        for job in jobs:
            if state.removed and article_id(job.url) in state.removed:
                summary.skipped.append(Skip(job.url, REMOVED))
            else:
                wanted.append(job)
        return wanted

    def _kept(self, reason: str, article: str) -> str:
        """``reason``, saying so when the corpus keeps an earlier copy of the article."""
        if article and article_path(self.corpus, article).exists():
            return f"{reason}; the copy already in the corpus stays"
        return reason


def _describe(exc: Exception) -> str:
    """``Type: message`` on one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def _unique(jobs: list[_Job], summary: FetchSummary) -> list[_Job]:
    """``jobs`` without links to an article already listed (by canonical URL)."""
    seen: dict[str, _Job] = {}
    unique: list[_Job] = []
    for job in jobs:
        key = canonical_url(job.url)
        first = seen.get(key)
        if first is not None:
            where = f" in {first.feed_url}" if first.feed_url else ""
            summary.skipped.append(Skip(job.url, f"duplicate link (already listed{where})"))
            continue
        seen[key] = job
        unique.append(job)
    return unique
