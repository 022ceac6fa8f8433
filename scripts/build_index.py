#!/usr/bin/env python3
"""Build or update the index: ``python -m scripts.build_index --corpus DIR --index DIR [--full]``.

Unchanged sentences keep their vectors (only new or edited sentences are embedded) and removed
articles are dropped. The new version goes live only when it is complete; a run in which nothing
changed returns in well under two seconds without loading the model.

Exit status: 0 built or up to date; 2 bad corpus, bad settings, or another build running;
1 the build failed (a full disk, a read-only index folder, or an unexpected error); 3 the
Chroma server does not answer (or stopped answering during the build). Every failure is one
line, and the served index is left as it was.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from index.config import IndexSettings
from index.errors import (
    EXIT_BAD_INPUT,
    EXIT_UNAVAILABLE,
    EXIT_UNEXPECTED,
    describe,
    one_line,
    storage_problem,
)
from index.store import BuildReport, build_index
from index.types import NewsQuoteError, SearchUnavailableError, StorageError
from scripts.startup import start

logger = logging.getLogger("scripts.build_index")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="build_index",
        description="Index a folder of news articles (.md, .txt, .html, .jsonl) for NewsQuote.",
    )
    parser.add_argument("--corpus", type=Path, help="article folder (default: CORPUS_DIR)")
    parser.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    parser.add_argument("--model", help="sentence-transformers model (default: EMBEDDING_MODEL)")
    parser.add_argument("--full", action="store_true", help="re-embed every article")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def _progress(enabled: bool) -> Any:
    if not enabled:
        return None

    def factory(total: int) -> Any:
        from tqdm import tqdm

        return tqdm(total=total, desc="Embedding", unit="sent", file=sys.stderr, leave=False)

    return factory


def main(argv: list[str] | None = None) -> int:
    """Run one build; print the summary; return the exit status."""
    args = parse_args(argv)
    start(logging.DEBUG if args.verbose else logging.WARNING)
    overrides: dict[str, Any] = {}
    if args.corpus is not None:
        overrides["corpus_dir"] = args.corpus
    if args.index is not None:
        overrides["index_dir"] = args.index
    if args.model:
        overrides["embedding_model"] = args.model
    try:
        settings = IndexSettings(**overrides)
    except ValidationError as exc:
        failure = describe(exc)
        print(failure.message, file=sys.stderr)
        return failure.status
    try:
        report: BuildReport = build_index(
            settings, full=args.full, progress=_progress(not args.quiet and sys.stderr.isatty())
        )
    except KeyboardInterrupt:
        print("interrupted; the existing index (if any) is unchanged", file=sys.stderr)
        return 130
    except Exception as exc:
        logger.debug("build failed", exc_info=True)
        message, status = _failure(exc, settings)
        print(
            one_line(f"error: {message}; the existing index (if any) is unchanged"), file=sys.stderr
        )
        return status
    print(report.summary())
    return 0


def _failure(exc: Exception, settings: IndexSettings) -> tuple[str, int]:
    """What went wrong, in words, and the exit status."""
    if isinstance(exc, SearchUnavailableError):
        return str(exc), EXIT_UNAVAILABLE
    if isinstance(exc, StorageError):
        return str(exc), EXIT_UNEXPECTED
    if isinstance(exc, NewsQuoteError):
        return str(exc), EXIT_BAD_INPUT
    if (problem := storage_problem(exc)) is not None:
        return f"cannot write the index in {settings.index_dir}: {problem}", EXIT_UNEXPECTED
    return f"the build failed ({type(exc).__name__}: {exc})", EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
