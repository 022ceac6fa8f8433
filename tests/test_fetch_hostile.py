"""The hostile web of issue 20, fetched through ``ingest.run``: URLs that cannot be parsed,
redirects to ``data:`` and ``javascript:``. Every bad URL is one skip line; the good page beside
it is written and the state is saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug import Response

from index.articles import load_corpus
from ingest.http import FetchPolicy
from ingest.run import FetchOptions, FetchSummary, run_fetch
from ingest.state import STATE_FILE
from ingest.urls import article_id
from testkit.local_web import FEED_TYPE, LocalSite, local_server
from testkit.news_site import BRIDGE, FESTIVAL, rss2

POLICY = FetchPolicy(delay=0.0, backoff=0.01, retries=0, timeout=3.0, connect_timeout=1.0)


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_server() as server:
        yield LocalSite(server)


def options(corpus: Path) -> FetchOptions:
    return FetchOptions(corpus_dir=corpus, policy=POLICY)


def feed_list(path: Path, *urls: str) -> Path:
    path.write_text("\n".join(urls) + "\n", encoding="utf-8")
    return path


def skips(summary: FetchSummary) -> dict[str, str]:
    return {s.url: s.reason for s in summary.skipped}


def redirect(location: str) -> Response:
    return Response("", status=302, headers={"Location": location})


def test_unparsable_urls_and_odd_redirects_are_skipped_and_the_rest_is_kept(
    site: LocalSite, tmp_path: Path
) -> None:
    good = site.story(BRIDGE)
    to_data = site.route("/to-data", lambda r: redirect("data:text/html,<h1>x</h1>"))
    to_js = site.route("/to-js", lambda r: redirect("javascript:alert(1)"))
    festival = site.story(FESTIVAL)
    items = [(FESTIVAL, festival), (BRIDGE, "http://[::1")]
    site.put("/rss.xml", rss2("Harbour News", site.url("/"), items), FEED_TYPE)
    feeds = feed_list(
        tmp_path / "feeds.txt", "http://[::1", to_data, good, to_js, site.url("/rss.xml")
    )
    corpus = tmp_path / "corpus"
    summary = run_fetch(feeds, options(corpus))

    assert sorted(summary.new) == sorted([article_id(good), article_id(festival)])
    reasons = skips(summary)
    assert "not an http(s) URL: 'http://[::1'" in reasons.pop(str(feeds))
    assert reasons.pop(to_data).startswith("invalid URL or redirect target (InvalidURL: ")
    assert reasons.pop(to_js).startswith("invalid URL or redirect target (InvalidURL: ")
    assert "no http(s) link" in reasons.pop(site.url("/rss.xml"))
    assert reasons == {}
    assert all("\n" not in s.reason for s in summary.skipped)
    assert {a.id for a in load_corpus(corpus).articles} == set(summary.new)
    assert (corpus / STATE_FILE).exists()
