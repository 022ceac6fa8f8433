"""The ingest modules one at a time: URLs and ids, the feed list and feed formats, extraction
from realistic pages, the Markdown writer (read back by the real corpus loader), the state."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.corpus.articles import load_corpus, load_file
from ingest.extract import ExtractionError, Page, extract_page
from ingest.feeds import (
    FeedEntry,
    FeedError,
    FeedListError,
    looks_like_feed,
    newest_entries,
    parse_feed,
    read_feed_list,
)
from ingest.http import Validators
from ingest.state import FetchState
from ingest.urls import article_id, canonical_url
from ingest.writer import atomic_write, remove_leftovers, render, write_page
from testkit.news_site import BRIDGE, COUNCIL, FESTIVAL, article_page, atom, rss091, rss1, rss2

SITE = "http://127.0.0.1:8000"

# --------------------------------------------------------------------------- urls


def test_canonical_url_drops_tracking_parameters_and_fragment() -> None:
    url = "HTTPS://News.Example.COM:443/a/story?utm_source=rss&b=2&a=1&fbclid=x&gclid=y#top"
    assert canonical_url(url) == "https://news.example.com/a/story?a=1&b=2"
    assert canonical_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/"


def test_article_id_is_stable_across_tracking_variants_and_distinct_otherwise() -> None:
    plain = article_id("https://example.com/news/1")
    assert plain == article_id("https://example.com/news/1?utm_medium=feed&utm_campaign=x")
    assert plain == article_id("https://EXAMPLE.com/news/1#comments")
    assert plain != article_id("https://example.com/news/2")
    assert plain != article_id("https://example.com/news/1?page=2")
    assert len(plain) == 16 and all(c in "0123456789abcdef" for c in plain)


# --------------------------------------------------------------------------- the feed list


def test_feed_list_skips_comments_and_blank_lines_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "feeds.txt"
    path.write_text(
        "# news feeds\n\nhttps://a.example/rss.xml   # the main feed\n"
        "ftp://nope.example/x\nhttps://a.example/rss.xml\nhttps://b.example/page\n",
        encoding="utf-8",
    )
    result = read_feed_list(path)
    assert result.urls == ["https://a.example/rss.xml", "https://b.example/page"]
    assert result.problems == ["line 4: not an http(s) URL: 'ftp://nope.example/x'"]


def test_opml_feed_list(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.opml"
    path.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>Mine</title></head><body>'
        '<outline text="News"><outline text="A" type="rss" xmlUrl="https://a.example/rss"/>'
        '<outline text="B" type="rss" xmlUrl="https://b.example/atom"/></outline>'
        '<outline text="bad" xmlUrl="javascript:alert(1)"/></body></opml>',
        encoding="utf-8",
    )
    result = read_feed_list(path)
    assert result.urls == ["https://a.example/rss", "https://b.example/atom"]
    assert len(result.problems) == 1 and "'bad'" in result.problems[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), ("# only comments\n\n", "names no feed"), ("<opml><", "not valid")],
)
def test_unusable_feed_lists_raise_one_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / ("feeds.opml" if content and content.startswith("<") else "feeds.txt")
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(FeedListError, match=message) as caught:
        read_feed_list(path)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------- feeds

ITEMS = [(s, f"{SITE}{s.path()}") for s in (BRIDGE, FESTIVAL, COUNCIL)]


@pytest.mark.parametrize("render_feed", [rss2, atom, rss1, rss091])
def test_every_feed_format_gives_title_links_and_dates(render_feed: object) -> None:
    assert callable(render_feed)
    text = render_feed("Harbour News", SITE + "/", ITEMS)
    feed = parse_feed(text.encode("utf-8"), SITE + "/feed", "application/xml")
    assert feed.title == "Harbour News"
    assert feed.problem is None
    assert [e.link for e in feed.entries] == [link for _, link in ITEMS]
    assert [e.title for e in feed.entries] == [s.title for s, _ in ITEMS]
    if render_feed is rss091:
        assert all(e.published is None for e in feed.entries)  # 0.91 has no item dates
    else:
        assert [e.published for e in feed.entries] == [s.published for s, _ in ITEMS]


def test_atom_relative_links_resolve_against_the_feed_url() -> None:
    text = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        '<entry><title>E</title><link href="/news/1"/><updated>2024-03-03T10:00:00Z</updated>'
        "</entry></feed>"
    )
    feed = parse_feed(text.encode(), f"{SITE}/feeds/atom.xml", "application/atom+xml")
    assert feed.entries[0].link == f"{SITE}/news/1"


def test_malformed_feed_with_readable_entries_is_used_with_a_note() -> None:
    text = rss2("Broken", SITE, ITEMS).replace("</channel></rss>", "<item><title>A & B")
    feed = parse_feed(text.encode(), SITE + "/rss", "application/rss+xml")
    assert feed.problem is not None and feed.problem.startswith("malformed XML")
    assert [e.link for e in feed.entries] == [link for _, link in ITEMS]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<rss><channel><item><title>cut off", "malformed feed"),
        (b'{"not": "xml"}', r"malformed feed \(not well-formed \(invalid token\) at line"),
        (b"<html><body><p>A page</p></body></html>", "not an RSS or Atom feed"),
    ],
)
def test_unreadable_feeds_raise_one_line(body: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message) as caught:
        parse_feed(body, SITE + "/rss", "application/xml")
    assert "\n" not in str(caught.value)


def test_entries_without_a_link_are_reported_not_fatal() -> None:
    text = rss2("T", SITE, ITEMS[:1]).replace(
        "</channel>", "<item><title>No link here</title></item></channel>"
    )
    feed = parse_feed(text.encode(), SITE + "/rss", "application/rss+xml")
    assert len(feed.entries) == 1
    assert feed.unusable == ["'No link here': no http(s) link"]


def test_newest_first_caps_and_puts_undated_entries_last() -> None:
    day = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    entries = [
        FeedEntry("https://x/undated-1"),
        FeedEntry("https://x/old", published=day),
        FeedEntry("https://x/new", published=day + dt.timedelta(days=2)),
        FeedEntry("https://x/undated-2"),
        FeedEntry("https://x/mid", published=day + dt.timedelta(days=1)),
    ]
    kept, left_out = newest_entries(entries, 4)
    assert [e.link.rsplit("/", 1)[1] for e in kept] == ["new", "mid", "old", "undated-1"]
    assert left_out == 1


def test_feed_detection_by_type_and_by_content() -> None:
    assert looks_like_feed("application/rss+xml", b"")
    assert looks_like_feed("text/plain", b'<?xml version="1.0"?><rss version="2.0">')
    assert not looks_like_feed("text/html", b"<!DOCTYPE html><html></html>")
    assert not looks_like_feed("application/xhtml+xml", b'<?xml version="1.0"?><html>')


# --------------------------------------------------------------------------- extraction


@pytest.mark.parametrize("story", [BRIDGE, FESTIVAL, COUNCIL], ids=lambda s: s.layout)
def test_extraction_keeps_the_story_and_drops_the_page_furniture(story: object) -> None:
    from testkit.news_site import Story

    assert isinstance(story, Story)
    url = f"{SITE}{story.path()}"
    page = extract_page(article_page(story, url).encode(), url, feed_title="Feed title")
    assert page.title == story.title
    assert page.body == "\n\n".join(story.paragraphs)  # nothing else, nothing lost
    for furniture in (
        "cookies",
        "Advertisement",
        "Related stories",
        "newsletter",
        "Reader 1",
        "Great reporting",
        "All rights reserved",
        "Photo: Staff",
        "dataLayer",
    ):
        assert furniture not in page.body
    assert page.published == story.published.date().isoformat()
    assert page.author == story.author
    assert page.source == (story.outlet or "Feed title")


def test_feed_entry_fills_gaps_and_gives_the_time_of_day() -> None:
    url = f"{SITE}{COUNCIL.path()}"
    html = article_page(COUNCIL, url).encode()
    entry = FeedEntry(url, "Feed's title", COUNCIL.published, "Desk Reporter")
    page = extract_page(html, url, entry=entry, feed_title="Harbour News")
    assert page.published == "2024-02-27T18:45:00Z"  # same day as the page: the feed's time
    assert page.author == "Desk Reporter"  # the page names none
    assert page.source == "Harbour News"
    bare = (
        "<html><body><div><p>"
        + " ".join(["Words of an article without metadata."] * 12)
        + "</p></div></body></html>"
    ).encode()
    page = extract_page(bare, f"{SITE}/x", entry=entry)
    assert page.title == "Feed's title"
    assert page.source == "127.0.0.1:8000"  # no site name, no feed title: the host


def test_paywall_and_script_only_pages_are_extraction_errors() -> None:
    teaser = (
        '<html><head><title>Big story</title><script type="application/ld+json">'
        '{"@type": "NewsArticle", "isAccessibleForFree": "False"}</script></head><body>'
        "<article><h1>Big story</h1><p>The first line of the big story is free.</p>"
        '<div class="paywall">Subscribe to continue reading.</div></article></body></html>'
    )
    with pytest.raises(ExtractionError, match=r"words of text found \(paywall\)"):
        extract_page(teaser.encode(), f"{SITE}/paywalled")
    script_only = (
        "<html><head><title>App</title></head><body><div id='root'></div>"
        "<noscript>Please enable JavaScript.</noscript>"
        '<script>window.__STATE__={"story":"loaded later"};</script></body></html>'
    )
    with pytest.raises(ExtractionError, match="paywall or script-only page"):
        extract_page(script_only.encode(), f"{SITE}/app")


def test_declared_charset_is_used() -> None:
    url = f"{SITE}{BRIDGE.path()}"
    html = article_page(BRIDGE, url).replace("city treasurer", "Stadtkämmerin")
    html = html.replace('<meta charset="utf-8">', "")
    page = extract_page(html.encode("latin-1"), url, charset="iso-8859-1")
    assert "Stadtkämmerin" in page.body


# --------------------------------------------------------------------------- writer


def _page(title: str = "A title", body: str = "First paragraph.\n\nSecond one.") -> Page:
    return Page(
        url="https://example.com/a",
        title=title,
        body=body,
        published="2024-03-03T10:00:00Z",
        source="Reuters",
        author="Jane Doe",
    )


def test_written_file_loads_through_the_corpus_loader(tmp_path: Path) -> None:
    written = write_page(tmp_path, "abc123", _page(), "2024-03-03T11:00:00Z")
    assert written.outcome == "new" and written.path == tmp_path / "abc123.md"
    [article] = load_file(written.path)
    assert article.id == "abc123"
    assert (article.title, article.url, article.source, article.author) == (
        "A title",
        "https://example.com/a",
        "Reuters",
        "Jane Doe",
    )
    assert article.published == "2024-03-03"
    assert article.body == "First paragraph.\n\nSecond one."
    assert "fetched_at: '2024-03-03T11:00:00Z'" in written.path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "title", ["yes", "2024", "null", "1e3", "- a list?", "key: value", "#hash", "'quoted'", "~"]
)
def test_titles_that_yaml_would_retype_stay_text(tmp_path: Path, title: str) -> None:
    written = write_page(tmp_path, "0123456789", _page(title=title), "2024-03-03T11:00:00Z")
    [article] = load_file(written.path)
    assert article.title == title
    assert article.id == "0123456789"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=st.text(min_size=1, max_size=60).filter(lambda t: t.strip() != ""),
    words=st.lists(
        st.text(min_size=1, max_size=12).filter(lambda w: w.strip() != ""), min_size=1, max_size=20
    ),
)
def test_any_title_and_body_round_trip(tmp_path: Path, title: str, words: list[str]) -> None:
    body = " ".join(" ".join(w.split()) for w in words).strip()
    if "\x00" in title + body or not body or body.startswith("---"):
        return
    page = Page(url="https://e.com/x", title=" ".join(title.split()), body=body)
    if not page.title:
        return
    path = write_page(tmp_path, "roundtrip", page, "2024-01-01T00:00:00Z").path
    [article] = load_file(path)
    assert article.title == page.title
    assert article.body == body.strip()
    path.unlink()


def test_unchanged_updated_and_a_shrunken_page_keeps_the_good_copy(tmp_path: Path) -> None:
    long_body = "\n\n".join(f"Paragraph {n} has several words in it." for n in range(10))
    first = write_page(tmp_path, "a1", _page(body=long_body), "2024-03-03T11:00:00Z")
    stamp = first.path.stat().st_mtime_ns
    again = write_page(tmp_path, "a1", _page(body=long_body), "2024-03-04T11:00:00Z")
    assert again.outcome == "unchanged" and first.path.stat().st_mtime_ns == stamp
    edited = long_body.replace("Paragraph 3", "Corrected paragraph 3")
    assert write_page(tmp_path, "a1", _page(body=edited), "2024-03-05T11:00:00Z").outcome == (
        "updated"
    )
    assert "Corrected paragraph 3" in load_file(first.path)[0].body
    teaser = write_page(tmp_path, "a1", _page(body="Subscribe to read more."), "2024-03-06")
    assert teaser.outcome == "kept" and teaser.reason and "kept the earlier copy" in teaser.reason
    assert "Corrected paragraph 3" in load_file(first.path)[0].body


def test_atomic_write_leaves_no_partial_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.md"
    target.write_text(render({"title": "Old"}, "Old body."), encoding="utf-8")

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, render({"title": "New"}, "New body."))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]
    assert load_file(target)[0].body == "Old body."


def test_leftovers_of_a_killed_run_are_hidden_and_removed_when_old(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text(render({"title": "T"}, "Body text."), encoding="utf-8")
    old = tmp_path / ".x.md.abc.partial"
    old.write_text("---\ntitle: half", encoding="utf-8")
    young = tmp_path / ".y.md.def.partial"
    young.write_text("---\ntitle: another run", encoding="utf-8")
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    load = load_corpus(tmp_path)
    assert [a.id for a in load.articles] == ["good"] and load.skipped == []
    assert remove_leftovers(tmp_path) == 1
    assert not old.exists() and young.exists()


# --------------------------------------------------------------------------- state


def test_state_round_trips_and_survives_damage(tmp_path: Path) -> None:
    from ingest.feeds import Feed

    path = tmp_path / ".fetch-state.json"
    state = FetchState.load(path)
    entry = FeedEntry("https://x/1", "T", dt.datetime(2024, 3, 3, tzinfo=dt.UTC), "A")
    state.remember("https://x/1", Validators('"e1"', "Sun, 03 Mar 2024 10:00:00 GMT"), "id1")
    state.remember("https://x/feed", Validators('"f"'), feed=Feed("https://x/feed", "F", [entry]))
    state.remember("https://x/no-validators", Validators(), "id2")
    state.save()
    again = FetchState.load(path)
    page = again.get("https://x/1")
    assert page is not None and page.article_id == "id1" and page.validators.etag == '"e1"'
    feed = again.get("https://x/feed")
    assert feed is not None and feed.feed is not None and feed.feed.entries == [entry]
    assert again.get("https://x/no-validators") is None
    path.write_text("{not json", encoding="utf-8")
    assert FetchState.load(path).get("https://x/1") is None
