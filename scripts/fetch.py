#!/usr/bin/env python3
"""Fetch feeds and pages into the corpus, then update the index:
``python -m scripts.fetch --feeds FILE --corpus DIR [--index DIR] [--no-build]``, or
``python -m scripts.fetch --add URL ...`` for one feed or page (the bot's ``/add`` runs this in
a child process, with ``--json`` for a summary it can read).

FILE names one feed (RSS or Atom) or article page a line (``#`` comments), or is an ``.opml``
export. Each article becomes ``<id>.md`` in the corpus folder; the closing line counts what was
fetched, new, updated, unchanged and skipped (each skip on a line of its own, with its reason).
Then the incremental build runs, unless ``--no-build``.

Only hosts on the public internet are fetched, and those named in ``FETCH_ALLOW_PRIVATE``;
``--timeout`` bounds each request from connecting to its last byte, ``--run-timeout`` the run.

Exit status: 0 something was read (and the build, if any, succeeded); 2 the feed list is
missing or empty, nothing could be read, or the settings or corpus are unusable; 1 the build
failed unexpectedly (the served index is left as it was).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from index.config import IndexSettings
from index.errors import EXIT_BAD_INPUT, describe
from index.types import NewsQuoteError
from ingest.edits import add_url
from ingest.http import USER_AGENT, FetchPolicy
from ingest.run import RUN_TIMEOUT, FetchOptions, FetchSummary, run_fetch
from ingest.settings import FetchSettings
from scripts.startup import start

logger = logging.getLogger("scripts.fetch")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = FetchPolicy()
    parser = argparse.ArgumentParser(
        prog="fetch", description="Fetch news feeds and pages into the NewsQuote corpus."
    )
    parser.add_argument("--feeds", type=Path, help="feed list (default: FEEDS_FILE)")
    parser.add_argument(
        "--add", metavar="URL", help="fetch this one feed or page instead (even if removed before)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    parser.add_argument("--corpus", type=Path, help="article folder (default: CORPUS_DIR)")
    parser.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    parser.add_argument("--model", help="embedding model for the build (default: EMBEDDING_MODEL)")
    parser.add_argument("--no-build", action="store_true", help="do not update the index")
    parser.add_argument(
        "--max-entries", type=int, default=100, help="entries per feed and run, newest first"
    )
    parser.add_argument("--state", type=Path, help="state file (default: CORPUS/.fetch-state.json)")
    parser.add_argument("--workers", type=int, default=8, help="pages fetched at once")
    parser.add_argument(
        "--delay", type=float, default=defaults.delay, help="seconds between requests to a host"
    )
    parser.add_argument(
        "--per-host", type=int, default=defaults.per_host, help="requests at a time per host"
    )
    parser.add_argument(
        "--timeout", type=float, default=defaults.timeout, help="seconds per request"
    )
    parser.add_argument("--retries", type=int, default=defaults.retries, help="retries")
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=RUN_TIMEOUT,
        help="seconds for the whole fetch; URLs not fetched by then are skipped",
    )
    parser.add_argument(
        "--max-bytes", type=int, default=defaults.max_bytes, help="size cap per document"
    )
    parser.add_argument("--user-agent", default=USER_AGENT, help="User-Agent header")
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def _options(args: argparse.Namespace, corpus: Path) -> FetchOptions:
    policy = FetchPolicy(
        user_agent=args.user_agent,
        timeout=args.timeout,
        max_bytes=args.max_bytes,
        per_host=args.per_host,
        delay=args.delay,
        retries=args.retries,
        allow_private=FetchSettings().fetch_allow_private,
    )
    return FetchOptions(
        corpus_dir=corpus,
        state_file=args.state,
        max_entries=args.max_entries,
        workers=args.workers,
        policy=policy,
        run_timeout=args.run_timeout,
    )


def _settings(args: argparse.Namespace) -> IndexSettings:
    overrides: dict[str, Any] = {}
    if args.corpus is not None:
        overrides["corpus_dir"] = args.corpus
    if args.index is not None:
        overrides["index_dir"] = args.index
    if args.model:
        overrides["embedding_model"] = args.model
    return IndexSettings(**overrides)


def _nothing_read(summary: FetchSummary) -> str:
    reasons = "; ".join(f"{s.url}: {s.reason}" for s in summary.skipped[:3])
    more = f"; and {len(summary.skipped) - 3} more" if len(summary.skipped) > 3 else ""
    return f"error: no feed or page could be read ({reasons}{more})"


def main(argv: list[str] | None = None) -> int:
    """Fetch, print the summary, build; return the exit status."""
    args = parse_args(argv)
    start(logging.DEBUG if args.verbose else logging.WARNING)
    feeds = args.feeds or os.environ.get("FEEDS_FILE")
    if not feeds and not args.add:
        print("error: give --feeds FILE or set FEEDS_FILE (or --add URL)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        settings = _settings(args)
        options = _options(args, settings.corpus_dir)
    except (ValidationError, ValueError) as exc:
        return _failed(exc)
    summary = _fetch(args, feeds, options)
    if isinstance(summary, int):
        return summary
    _report(summary, args.json)
    if not summary.anything_read:
        return EXIT_BAD_INPUT
    return 0 if args.no_build else _build(settings)


def _fetch(
    args: argparse.Namespace, feeds: str | None, options: FetchOptions
) -> FetchSummary | int:
    """The run's summary, or the exit status when it could not run."""
    try:
        if args.add:
            return add_url(args.add, options)
        return run_fetch(Path(str(feeds)), options)
    except NewsQuoteError as exc:  # the feed list, the URL to add, a busy corpus
        return _failed(exc)
    except KeyboardInterrupt:
        print("interrupted; the articles already in the corpus are unchanged", file=sys.stderr)
        return 130


def _failed(exc: BaseException) -> int:
    """Print ``exc`` as the one line :func:`index.errors.describe` makes of it; its status."""
    failure = describe(exc)
    print(failure.message, file=sys.stderr)
    return failure.status


def _report(summary: FetchSummary, as_json: bool) -> None:
    """The summary on stdout (one JSON line with ``--json``); "nothing read" on stderr."""
    if as_json:
        print(summary.to_json(), flush=True)
    elif summary.anything_read:
        print("\n".join(summary.lines()), flush=True)
    if not summary.anything_read:
        print(_nothing_read(summary), file=sys.stderr)


def _build(settings: IndexSettings) -> int:
    from index.store import build_index  # numpy and friends: only when a build runs

    try:
        report = build_index(settings)
    except NewsQuoteError as exc:
        print(f"error: {exc}; the existing index (if any) is unchanged", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        logger.debug("build failed", exc_info=True)
        print(
            f"error: the build failed ({type(exc).__name__}: {exc}); "
            "the existing index (if any) is unchanged",
            file=sys.stderr,
        )
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
