#!/usr/bin/env python3
"""Fetch benchmark: ``python -m benchmarks.bench_fetch [--pages 200] [--model NAME]``.

A local site on 127.0.0.1 serves ``--pages`` realistic article pages (navigation, ads,
comments, scripts, JSON-LD) and one RSS feed listing them all. Measured, in one run:

1. the first fetch into an empty corpus: pages/s, and the time of fetch plus the build;
2. extraction alone (trafilatura on the same pages, one thread), for where the time goes;
3. a refresh where 10% of the pages were corrected and 5% are new: fetch plus incremental build;
4. the no-change re-fetch: every page answers 304 to the conditional GET, the build is a no-op.

The client runs with its default limits (2 requests at a time to the host, 8 workers) but no
polite delay (``--delay``, default 0), so the figures are the fetcher's own speed; with the
default delay of 0.5 s one host is fetched at 2 pages/s at most, by design. Figures taken on a
shared machine are noisy: compare the rows of one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

from index.config import IndexSettings
from index.store import build_index
from ingest.extract import extract_page
from ingest.http import FetchPolicy
from ingest.run import FetchOptions, FetchSummary, run_fetch
from testkit.local_web import ALLOW_LOCAL, FEED_TYPE, LocalSite, local_server
from testkit.news_site import Story, article_page, filler_story, rss2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench_fetch", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=200, help="article pages on the site")
    parser.add_argument("--model", default=None, help="embedding model (default: the settings')")
    parser.add_argument("--delay", type=float, default=0.0, help="polite delay per host (s)")
    parser.add_argument("--workers", type=int, default=8, help="pages fetched at once")
    return parser.parse_args(argv)


def _publish(site: LocalSite, stories: list[Story]) -> None:
    for story in stories:
        site.story(story)
    items = [(s, site.url(s.path())) for s in stories]
    site.put("/rss.xml", rss2("Bench News", site.url("/"), items), FEED_TYPE)


def _step(
    name: str, feeds: Path, options: FetchOptions, settings: IndexSettings
) -> tuple[FetchSummary, float, float]:
    started = time.perf_counter()
    summary = run_fetch(feeds, options)
    fetched = time.perf_counter() - started
    report = build_index(settings)
    total = time.perf_counter() - started
    print(f"{name}: {summary.line()}")
    print(f"  build: {report.summary().splitlines()[0]}")
    return summary, fetched, total


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    stories = [filler_story(n) for n in range(args.pages)]
    with tempfile.TemporaryDirectory() as tmp, local_server() as server:
        root = Path(tmp)
        site = LocalSite(server)
        _publish(site, stories)
        feeds = root / "feeds.txt"
        feeds.write_text(site.url("/rss.xml") + "\n", encoding="utf-8")
        policy = FetchPolicy(delay=args.delay, allow_private=ALLOW_LOCAL)
        options = FetchOptions(
            corpus_dir=root / "corpus",
            max_entries=args.pages * 2,
            workers=args.workers,
            policy=policy,
        )
        extra = {"embedding_model": args.model} if args.model else {}
        settings = IndexSettings(corpus_dir=root / "corpus", index_dir=root / "index", **extra)

        first, first_fetch, first_total = _step("first fetch", feeds, options, settings)

        started = time.perf_counter()
        for story in stories:
            extract_page(article_page(story, site.url(story.path())).encode(), site.url("/x"))
        extract_seconds = time.perf_counter() - started

        changed = len(stories) // 10
        edited = [
            dataclasses.replace(s, paragraphs=(*s.paragraphs, "The council confirmed it."))
            for s in stories[:changed]
        ]
        added = [filler_story(args.pages + n) for n in range(len(stories) // 20)]
        _publish(site, edited + stories[changed:] + added)
        refresh, refresh_fetch, refresh_total = _step("refresh", feeds, options, settings)

        same, same_fetch, same_total = _step("no change", feeds, options, settings)

    pages = first.fetched
    print()
    print(f"pages: {len(stories)} on one local host; model {settings.embedding_model}")
    print(f"first fetch: {pages} pages in {first_fetch:.2f} s = {pages / first_fetch:.1f} pages/s")
    print(f"  fetch + full build: {first_total:.2f} s")
    print(
        f"  extraction alone (trafilatura, one thread): {len(stories) / extract_seconds:.1f} "
        f"pages/s ({1000 * extract_seconds / len(stories):.1f} ms a page)"
    )
    print(
        f"refresh ({len(refresh.updated)} corrected, {len(refresh.new)} new, "
        f"{refresh.not_modified} not modified): fetch {refresh_fetch:.2f} s, "
        f"fetch + incremental build {refresh_total:.2f} s"
    )
    print(
        f"no-change re-fetch ({same.not_modified} answered 304): fetch {same_fetch:.2f} s, "
        f"fetch + no-op build {same_total:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
