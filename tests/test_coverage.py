"""Coverage added and removed by hand (``ingest.edits``, behind the bot's admin commands):
a page by URL, an uploaded document, removing an article so that no feed brings it back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.corpus.articles import load_corpus
from ingest.edits import CoverageError, add_document, add_url, remove_article
from ingest.http import FetchPolicy
from ingest.run import FetchOptions, run_fetch
from ingest.urls import article_id
from testkit.local_web import ALLOW_LOCAL, FEED_TYPE, LocalSite, local_server
from testkit.news_site import BRIDGE, FESTIVAL, rss2
from tests.corpus import HARBOUR, write_article

POLICY = FetchPolicy(delay=0.0, backoff=0.01, retries=0, timeout=2.0, allow_private=ALLOW_LOCAL)


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_server() as server:
        yield LocalSite(server)


def test_add_url_fetches_one_page(site: LocalSite, tmp_path: Path) -> None:
    url = site.story(BRIDGE)
    summary = add_url(url, FetchOptions(corpus_dir=tmp_path, policy=POLICY))
    assert summary.new == [article_id(url)]
    [article] = load_corpus(tmp_path).articles
    assert (article.title, article.source) == (BRIDGE.title, "The Harbour Herald")
    summary = add_url(site.url("/nothing-here"), FetchOptions(corpus_dir=tmp_path, policy=POLICY))
    assert [s.reason for s in summary.skipped] == ["HTTP 404 Not Found"]
    with pytest.raises(CoverageError, match="not an http"):
        add_url("file:///etc/passwd", FetchOptions(corpus_dir=tmp_path, policy=POLICY))


def test_removed_article_stays_removed_until_added_by_hand(site: LocalSite, tmp_path: Path) -> None:
    urls = [site.story(BRIDGE), site.story(FESTIVAL)]
    site.put(
        "/rss.xml",
        rss2("Feed", site.url("/"), list(zip((BRIDGE, FESTIVAL), urls, strict=True))),
        FEED_TYPE,
    )
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(site.url("/rss.xml") + "\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    options = FetchOptions(corpus_dir=corpus, policy=POLICY)
    run_fetch(feeds, options)
    gone = article_id(urls[0])
    removed = remove_article(corpus, gone)
    assert removed.title == BRIDGE.title and not removed.path.exists()

    summary = run_fetch(feeds, options)  # the feed still lists it
    assert [s.url for s in summary.skipped] == [urls[0]]
    assert "removed from the corpus by an admin" in summary.skipped[0].reason
    assert [a.id for a in load_corpus(corpus).articles] == [article_id(urls[1])]

    assert add_url(urls[0], options).new == [gone]
    assert run_fetch(feeds, options).skipped == []


def test_remove_refuses_unknown_ids_and_jsonl_lines(tmp_path: Path) -> None:
    write_article(tmp_path, "by-hand.md", "By hand", *HARBOUR)
    (tmp_path / "many.jsonl").write_text(
        '{"id": "j1", "title": "One", "text": "First text."}\n'
        '{"id": "j2", "title": "Two", "text": "Second text."}\n',
        encoding="utf-8",
    )
    with pytest.raises(CoverageError, match="no article with id 'nope'"):
        remove_article(tmp_path, "nope")
    with pytest.raises(CoverageError, match=r"'j1' is one line of many\.jsonl"):
        remove_article(tmp_path, "j1")
    assert remove_article(tmp_path, "by-hand").path == tmp_path / "by-hand.md"
    assert {a.id for a in load_corpus(tmp_path).articles} == {"j1", "j2"}


def test_add_document_checks_type_size_and_content(tmp_path: Path) -> None:
    md = b"---\ntitle: 'yes'\nsource: Desk\n---\n\nThe bridge reopened on Monday.\n"
    added = add_document(tmp_path, "../../Evil Name!.MD", md)
    assert added.path == tmp_path / "Evil-Name.md" and added.article_id == "Evil-Name"
    assert added.title == "yes" and not added.replaced
    assert add_document(tmp_path, "Evil Name!.MD", md).replaced
    html = (
        b"<html><head><title>Council vote</title></head><body><article><h1>Council vote</h1>"
        b"<p>The council voted 7 to 2 to extend the cycle lanes across the city centre.</p>"
        b"<p>Construction of the first lanes starts in spring, the deputy mayor said.</p>"
        b"</article></body></html>"
    )
    assert add_document(tmp_path, "vote.html", html).title == "Council vote"
    assert add_document(tmp_path, "note.txt", b"Headline\n\nBody text.").title == "Headline"
    assert {a.id for a in load_corpus(tmp_path).articles} == {"Evil-Name", "vote", "note"}

    with pytest.raises(CoverageError, match=r"only .htm, .html, .markdown, .md, .txt files"):
        add_document(tmp_path, "report.pdf", b"%PDF-1.7")
    with pytest.raises(CoverageError, match="too large"):
        add_document(tmp_path, "big.txt", b"Title\n" + b"x" * (5 * 1024 * 1024))
    with pytest.raises(CoverageError, match=r"cannot read empty\.md: empty body"):
        add_document(tmp_path, "empty.md", b"---\ntitle: T\n---\n")
    with pytest.raises(CoverageError, match="binary file"):
        add_document(tmp_path, "bin.txt", b"T\n\x00\x01")
    with pytest.raises(CoverageError, match=r"id 'vote' is already in the corpus \(vote.html\)"):
        add_document(tmp_path, "vote.md", b"---\ntitle: Other\n---\n\nOther text.")
    assert len(load_corpus(tmp_path).articles) == 3
