"""Fetching a local news web into the corpus (``ingest.run`` and ``python -m scripts.fetch``).

A site on 127.0.0.1 serves realistic article pages and their feeds beside everything that goes
wrong on the real web: dead links, a PDF, an image, a multi-megabyte binary, a paywall, a
script-only page, a redirect loop, a server that keeps failing, a page that never answers,
a malformed feed, duplicate links and a feed with hundreds of entries. Nothing bad gets in,
nothing good is lost, and every problem is one line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug import Request, Response

from index.corpus.articles import load_corpus
from ingest.http import USER_AGENT, FetchPolicy
from ingest.lock import LOCK_FILE
from ingest.run import FetchOptions, FetchSummary, run_fetch
from ingest.state import STATE_FILE
from ingest.urls import article_id
from testkit.local_web import ALLOW_LOCAL, ALLOW_LOCAL_ENV, FEED_TYPE, LocalSite, local_server
from testkit.news_site import (
    BRIDGE,
    COUNCIL,
    FESTIVAL,
    Story,
    article_page,
    atom,
    filler_story,
    rss091,
    rss1,
    rss2,
)
from tests.cli import clean_env, module_cmd, run
from tests.corpus import HARBOUR, write_article

pytestmark = pytest.mark.usefixtures("offline_index_env")

POLICY = FetchPolicy(
    delay=0.0, backoff=0.01, retries=1, timeout=1.5, connect_timeout=1.0, allow_private=ALLOW_LOCAL
)
SCRIPT_ONLY = (
    "<!DOCTYPE html><html><head><title>Live blog</title></head><body><div id='app'></div>"
    "<noscript>You need to enable JavaScript to run this app.</noscript>"
    "<script src='/static/bundle.js'></script></body></html>"
)
PAYWALL = (
    "<!DOCTYPE html><html><head><title>Exclusive: the budget leak | The Harbour Herald</title>"
    '<meta property="og:site_name" content="The Harbour Herald">'
    '<script type="application/ld+json">{"@context": "https://schema.org", "@type": '
    '"NewsArticle", "headline": "Exclusive: the budget leak", "isAccessibleForFree": false}'
    "</script></head><body><nav><a href='/'>Home</a></nav><article><h1>Exclusive: the budget "
    "leak</h1><p>Documents seen by the Herald show a gap in the budget.</p>"
    "<div class='paywall'><p>This article is for subscribers.</p><a href='/subscribe'>"
    "Subscribe now</a></div></article></body></html>"
)


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_server() as server:
        yield LocalSite(server)


def options(corpus: Path, max_entries: int = 100) -> FetchOptions:
    return FetchOptions(corpus_dir=corpus, policy=POLICY, max_entries=max_entries)


def _never_answers(request: Request) -> Response:
    time.sleep(3)
    return Response("late", content_type="text/html")


def _endless_binary(request: Request) -> Response:
    def chunks() -> Iterator[bytes]:
        for _ in range(8 * 1024):  # 8 MB if read to the end
            yield os.urandom(1024)

    return Response(chunks(), content_type="text/html")  # a lie about the type, too


def hostile_web(site: LocalSite) -> dict[str, str]:
    """The stories, two feeds full of trouble, a malformed feed: name -> URL."""
    urls = {story.slug: site.story(story) for story in (BRIDGE, FESTIVAL, COUNCIL)}
    bad = {
        "missing": site.url("/news/missing-story"),
        "gone": site.route("/news/gone", lambda r: Response("Gone", status=410)),
        "pdf": site.put("/files/report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        "image": site.put("/img/photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        "binary": site.put("/files/data.bin", os.urandom(6 * 1024 * 1024), "application/zip"),
        "endless": site.route("/news/endless", _endless_binary),
        "paywall": site.put("/news/exclusive-budget-leak", PAYWALL),
        "script": site.put("/live/blog", SCRIPT_ONLY),
        "loop": site.route(
            "/news/loop", lambda r: Response("", status=302, headers={"Location": "/news/loop"})
        ),
        "busy": site.route("/news/busy", lambda r: Response("Try later", status=503)),
        "slow": site.route("/news/slow", _never_answers),
    }
    items: list[tuple[Story, str]] = [(BRIDGE, urls[BRIDGE.slug]), (COUNCIL, urls[COUNCIL.slug])]
    items += [(dataclasses.replace(BRIDGE, title=f"Item {name}"), url) for name, url in bad.items()]
    items.append((BRIDGE, urls[BRIDGE.slug] + "?utm_source=rss&utm_medium=feed"))  # a duplicate
    site.put("/rss.xml", rss2("Harbour News", site.url("/"), items), FEED_TYPE)
    culture = [(FESTIVAL, urls[FESTIVAL.slug]), (BRIDGE, urls[BRIDGE.slug])]
    site.put("/culture.atom", atom("City Culture", site.url("/"), culture), "application/atom+xml")
    site.put(
        "/broken.xml",
        "<?xml version='1.0'?><rss version='2.0'><channel><item><title>Cut",
        FEED_TYPE,
    )
    return urls | bad


def feed_list(path: Path, *urls: str) -> Path:
    path.write_text("# feeds for the test\n" + "\n".join(urls) + "\n", encoding="utf-8")
    return path


def skips(summary: FetchSummary) -> dict[str, str]:
    return {s.url: s.reason for s in summary.skipped}


def test_bad_input_is_skipped_with_one_line_each_and_loses_nothing(
    site: LocalSite, tmp_path: Path
) -> None:
    urls = hostile_web(site)
    corpus = tmp_path / "corpus"
    write_article(corpus, "by-hand.md", "Written by hand", *HARBOUR, source="Desk")
    feeds = feed_list(
        tmp_path / "feeds.txt",
        site.url("/rss.xml"),
        site.url("/culture.atom"),
        site.url("/broken.xml"),
        site.url("/feeds/none.xml"),
    )
    summary = run_fetch(feeds, options(corpus))

    expected_ids = {article_id(urls[s.slug]) for s in (BRIDGE, FESTIVAL, COUNCIL)}
    assert set(summary.new) == expected_ids
    assert summary.fetched == 3 and summary.sources == 4 and summary.sources_read == 3
    reasons = skips(summary)
    expected = {
        urls["missing"]: "HTTP 404 Not Found",
        urls["gone"]: "HTTP 410 Gone",
        urls["pdf"]: "not an HTML page or feed (content type application/pdf)",
        urls["image"]: "not an HTML page or feed (content type image/jpeg)",
        urls["binary"]: "not an HTML page or feed (content type application/zip)",
        urls["endless"]: "too large (over 5 MB)",
        urls["paywall"]: "words of text found (paywall)",
        urls["script"]: "words of text found (paywall or script-only page?)",
        urls["loop"]: "too many redirects (more than 5, or a loop)",
        urls["busy"]: "HTTP 503 Service Unavailable after 2 tries",
        urls["slow"]: "timed out (limit 1.5 s) after 2 tries",
        urls[BRIDGE.slug] + "?utm_source=rss&utm_medium=feed": "duplicate link (already listed",
        site.url("/broken.xml"): "malformed feed (",
        site.url("/feeds/none.xml"): "HTTP 404 Not Found",
    }
    for url, reason in expected.items():
        assert reason in reasons.pop(url), url
    # BRIDGE again in the Atom feed: a duplicate across feeds
    [(dup_url, dup_reason)] = reasons.items()
    assert (
        dup_url == urls[BRIDGE.slug] and "already listed in " + site.url("/rss.xml") in dup_reason
    )
    assert all("\n" not in s.reason for s in summary.skipped)

    load = load_corpus(corpus)
    assert load.skipped == []
    by_id = {a.id: a for a in load.articles}
    assert set(by_id) == expected_ids | {"by-hand"}  # the hand-written article stays
    bridge = by_id[article_id(urls[BRIDGE.slug])]
    assert (bridge.title, bridge.source, bridge.published) == (
        BRIDGE.title,
        "The Harbour Herald",
        "2024-03-04",
    )
    assert bridge.url == urls[BRIDGE.slug]
    assert bridge.body == "\n\n".join(BRIDGE.paragraphs)
    council = by_id[article_id(urls[COUNCIL.slug])]
    assert council.source == "Harbour News"  # the page names no outlet: the feed's title
    assert site.user_agents == {USER_AGENT}
    line = summary.line()
    assert line.startswith("Fetched 3 pages from 3 of 4 sources in ")
    assert line.endswith(": 3 new, 0 updated, 0 unchanged, 15 skipped.")


def test_second_run_asks_conditionally_and_rewrites_nothing(
    site: LocalSite, tmp_path: Path
) -> None:
    urls = {s.slug: site.story(s) for s in (BRIDGE, FESTIVAL)}
    site.put(
        "/rss.xml",
        rss2(
            "Harbour News",
            site.url("/"),
            [(BRIDGE, urls[BRIDGE.slug]), (FESTIVAL, urls[FESTIVAL.slug])],
        ),
        FEED_TYPE,
    )
    corpus = tmp_path / "corpus"
    feeds = feed_list(tmp_path / "feeds.txt", site.url("/rss.xml"), urls[FESTIVAL.slug])
    first = run_fetch(feeds, options(corpus))
    assert len(first.new) == 2 and first.fetched == 2
    assert any("duplicate" in s.reason for s in first.skipped)  # listed and in the feed
    stamps = {p.name: p.stat().st_mtime_ns for p in corpus.glob("*.md")}

    second = run_fetch(feeds, options(corpus))
    assert (second.fetched, second.not_modified, second.new, second.updated) == (0, 2, [], [])
    assert sorted(second.unchanged) == sorted(first.new)
    assert {p.name: p.stat().st_mtime_ns for p in corpus.glob("*.md")} == stamps
    assert site.statuses("/rss.xml") == [200, 304]
    assert site.statuses(BRIDGE.path()) == [200, 304]
    assert not second.changed
    assert "0 new, 0 updated, 2 unchanged (2 not modified)" in second.line()


def test_corrected_article_replaces_its_file_and_a_broken_page_never_does(
    site: LocalSite, tmp_path: Path
) -> None:
    url = site.story(BRIDGE)
    corpus = tmp_path / "corpus"
    feeds = feed_list(tmp_path / "feeds.txt", url)
    [bridge_id] = run_fetch(feeds, options(corpus)).new

    corrected = dataclasses.replace(
        BRIDGE, paragraphs=(*BRIDGE.paragraphs[:2], "The repairs cost 13 million euros.")
    )
    site.story(corrected)
    summary = run_fetch(feeds, options(corpus))
    assert summary.updated == [bridge_id]
    [article] = load_corpus(corpus).articles
    assert article.id == bridge_id and "13 million euros" in article.body
    names = sorted(p.name for p in corpus.iterdir())
    assert names == [LOCK_FILE, STATE_FILE, f"{bridge_id}.md"]

    good = (corpus / f"{bridge_id}.md").read_bytes()
    for broken in (PAYWALL, SCRIPT_ONLY):
        site.put(BRIDGE.path(), broken)
        summary = run_fetch(feeds, options(corpus))
        [skip] = summary.skipped
        assert skip.reason.endswith("; the copy already in the corpus stays")
        assert (corpus / f"{bridge_id}.md").read_bytes() == good
    site.remove(BRIDGE.path())
    [skip] = run_fetch(feeds, options(corpus)).skipped
    assert skip.reason == "HTTP 404 Not Found; the copy already in the corpus stays"
    assert (corpus / f"{bridge_id}.md").read_bytes() == good


def test_a_shorter_page_does_not_replace_a_longer_copy(site: LocalSite, tmp_path: Path) -> None:
    long_story = dataclasses.replace(BRIDGE, paragraphs=BRIDGE.paragraphs * 3)
    url = site.story(long_story)
    corpus = tmp_path / "corpus"
    feeds = feed_list(tmp_path / "feeds.txt", url)
    [the_id] = run_fetch(feeds, options(corpus)).new
    site.story(dataclasses.replace(BRIDGE, paragraphs=BRIDGE.paragraphs[:2]))
    [skip] = run_fetch(feeds, options(corpus)).skipped
    assert "kept the earlier copy" in skip.reason
    assert load_corpus(corpus).articles[0].body == "\n\n".join(long_story.paragraphs)
    assert load_corpus(corpus).articles[0].id == the_id


def test_a_huge_feed_is_capped_newest_first(site: LocalSite, tmp_path: Path) -> None:
    stories = [filler_story(n) for n in range(400)]
    items = [(s, site.url(s.path())) for s in stories]
    for story in stories[-10:]:
        site.story(story)
    site.put("/big.xml", rss2("Big Feed", site.url("/"), items), FEED_TYPE)
    corpus = tmp_path / "corpus"
    summary = run_fetch(
        feed_list(tmp_path / "f.txt", site.url("/big.xml")), options(corpus, max_entries=6)
    )
    newest = {article_id(site.url(s.path())) for s in stories[-6:]}
    assert set(summary.new) == newest
    assert summary.notes == [
        f"{site.url('/big.xml')}: 394 older entries not fetched (at most 6 a run, newest first)"
    ]
    assert sum(site.count(s.path()) for s in stories[:-6]) == 0


def test_links_that_redirect_to_one_article_give_one_file(site: LocalSite, tmp_path: Path) -> None:
    url = site.story(FESTIVAL)
    for short in ("/s/abc", "/s/def"):
        site.route(short, lambda r: Response("", status=301, headers={"Location": url}))
    corpus = tmp_path / "corpus"
    summary = run_fetch(
        feed_list(tmp_path / "f.txt", site.url("/s/abc"), site.url("/s/def")), options(corpus)
    )
    assert summary.new == [article_id(url)]
    [skip] = summary.skipped
    assert skip.url == site.url("/s/def") and "same article as" in skip.reason
    assert [a.url for a in load_corpus(corpus).articles] == [url]


def test_every_feed_format_and_an_opml_list(site: LocalSite, tmp_path: Path) -> None:
    stories = [filler_story(n) for n in range(4)]
    urls = [site.story(s) for s in stories]
    formats = [("rss2.xml", rss2), ("atom.xml", atom), ("rss1.rdf", rss1), ("rss091.xml", rss091)]
    outlines = ""
    for (name, render), story, url in zip(formats, stories, urls, strict=True):
        site.put(
            f"/{name}", render(f"Feed {name}", site.url("/"), [(story, url)]), "application/xml"
        )
        outlines += f'<outline text="{name}" type="rss" xmlUrl="{site.url("/" + name)}"/>'
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8"
    )
    summary = run_fetch(opml, options(tmp_path / "corpus"))
    assert sorted(summary.new) == sorted(article_id(u) for u in urls)
    assert summary.skipped == []
    published = {a.url: a.published for a in load_corpus(tmp_path / "corpus").articles}
    assert published == {
        u: s.published.date().isoformat() for s, u in zip(stories, urls, strict=True)
    }


def test_a_damaged_state_file_only_costs_full_downloads(site: LocalSite, tmp_path: Path) -> None:
    url = site.story(BRIDGE)
    corpus = tmp_path / "corpus"
    feeds = feed_list(tmp_path / "f.txt", url)
    run_fetch(feeds, options(corpus))
    (corpus / ".fetch-state.json").write_text("{broken", encoding="utf-8")
    summary = run_fetch(feeds, options(corpus))
    assert (summary.fetched, summary.unchanged) == (1, [article_id(url)])
    assert json.loads((corpus / ".fetch-state.json").read_text())["version"] == 1


@contextlib.contextmanager
def static_files(root: Path) -> Iterator[str]:
    """Python's own file server for ``root`` on 127.0.0.1 (types guessed from file names,
    Last-Modified from the files, no ETag); its base URL."""
    handler = functools.partial(QuietFileHandler, directory=str(root))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}"
        finally:
            httpd.shutdown()


class QuietFileHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_plain_static_file_server(tmp_path: Path) -> None:
    """Pages as files (one without an extension, so served as application/octet-stream),
    a feed, a dead link, a binary file and a malformed feed, all from ``http.server``."""
    www = tmp_path / "www"
    (www / "news").mkdir(parents=True)
    (www / "files").mkdir()
    (www / "files" / "data.bin").write_bytes(os.urandom(300_000))
    (www / "broken.xml").write_text(
        "<?xml version='1.0'?><rss><channel><item><title>x", encoding="utf-8"
    )
    with static_files(www) as base:
        names = ["bridge.html", "festival.htm", "council"]
        urls = [f"{base}/news/{name}" for name in names]
        for story, name, url in zip((BRIDGE, FESTIVAL, COUNCIL), names, urls, strict=True):
            (www / "news" / name).write_text(article_page(story, url), encoding="utf-8")
        items = list(zip((BRIDGE, FESTIVAL, COUNCIL), urls, strict=True))
        items += [(BRIDGE, f"{base}/news/missing.html"), (BRIDGE, f"{base}/files/data.bin")]
        (www / "feed.xml").write_text(rss2("Static News", base, items), encoding="utf-8")
        feeds = feed_list(tmp_path / "f.txt", f"{base}/feed.xml", f"{base}/broken.xml")
        corpus = tmp_path / "corpus"
        first = run_fetch(feeds, options(corpus))
        assert sorted(first.new) == sorted(article_id(u) for u in urls)
        reasons = skips(first)
        assert reasons[f"{base}/news/missing.html"] == "HTTP 404 Not Found"
        assert reasons[f"{base}/files/data.bin"] == (
            "not an HTML page or feed (content type application/octet-stream, and the content "
            "is neither)"
        )
        assert reasons[f"{base}/broken.xml"].startswith("malformed feed (")
        assert len(reasons) == 3
        second = run_fetch(feeds, options(corpus))
    assert second.not_modified == 3 and second.fetched == 0  # If-Modified-Since
    articles = {a.url: a for a in load_corpus(corpus).articles}
    assert articles[urls[2]].source == "Static News" and articles[urls[0]].published == "2024-03-04"


# --------------------------------------------------------------------------- the command


def fetch_cmd(feeds: Path, corpus: Path, index: Path, *extra: str) -> list[str]:
    """``python -m scripts.fetch`` from ``feeds`` into ``corpus`` and ``index``: no delay, no
    retries, 2 s a request."""
    where = ["--feeds", str(feeds), "--corpus", str(corpus), "--index", str(index)]
    quick = ["--delay", "0", "--timeout", "2", "--retries", "0"]
    return module_cmd("scripts.fetch", *where, *quick, *extra)


def ask_cmd(index: Path, questions: Path) -> list[str]:
    """``python -m scripts.ask`` on ``index``, JSON answers to the ``questions`` file."""
    return module_cmd("scripts.ask", "--index", str(index), "--json", "--batch", str(questions))


def fetch_cli(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a ``scripts.fetch`` command that may reach the local site (127.0.0.1 allowed)."""
    return run(cmd, env=clean_env(**ALLOW_LOCAL_ENV), cwd=cwd, timeout=240)


def test_cli_missing_feed_list_and_nothing_reachable(site: LocalSite, tmp_path: Path) -> None:
    missing = fetch_cli(fetch_cmd(tmp_path / "nope.txt", tmp_path / "c", tmp_path / "i"), tmp_path)
    assert missing.returncode == 2
    assert (
        missing.stderr.strip() == f"error: feed list {str(tmp_path / 'nope.txt')!r} does not exist"
    )

    with local_server() as gone:
        dead = gone.url_for("/rss.xml")
    feeds = feed_list(tmp_path / "f.txt", site.url("/feeds/missing.xml"), dead)
    result = fetch_cli(fetch_cmd(feeds, tmp_path / "c", tmp_path / "i"), tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: no feed or page could be read (")
    assert "HTTP 404 Not Found" in line and "connection failed" in line
    assert not (tmp_path / "i").exists()


@pytest.mark.slow  # three commands, a build among them: about 15 s
def test_cli_fetches_builds_and_the_answers_cite_the_page(site: LocalSite, tmp_path: Path) -> None:
    urls = hostile_web(site)
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    feeds = feed_list(
        tmp_path / "feeds.txt",
        site.url("/rss.xml"),
        site.url("/culture.atom"),
        site.url("/broken.xml"),
    )
    result = fetch_cli(fetch_cmd(feeds, corpus, index, "--model", "hashing-64"), tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith(": 3 new, 0 updated, 0 unchanged, 14 skipped.")
    assert sum(line.startswith("  skipped ") for line in lines) == 14
    assert any(line.startswith("Built index ") for line in lines)

    again = fetch_cli(fetch_cmd(feeds, corpus, index, "--model", "hashing-64"), tmp_path)
    assert again.returncode == 0, again.stderr
    assert "3 unchanged (3 not modified)" in again.stdout
    assert "is up to date" in again.stdout  # the build had nothing to do

    questions = tmp_path / "q.txt"
    questions.write_text("How many steel cables did engineers replace?\n", encoding="utf-8")
    ask = run(ask_cmd(index, questions), env=clean_env(EMBEDDING_MODEL="hashing-64"), cwd=tmp_path)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout.splitlines()[0])
    top = answer["quotes"][0]
    assert "40 steel cables" in top["text"]
    assert top["url"] == urls[BRIDGE.slug]
    assert top["published"] == "2024-03-04"
    assert top["source"] == "The Harbour Herald"


QUESTIONS = [
    ("How many steel cables did engineers replace?", "40 steel cables", BRIDGE, None),
    ("How many tickets did the summer festival sell?", "80,000 tickets", FESTIVAL, None),
    ("How did the city council vote on the cycle lanes?", "voted 7 to 2", COUNCIL, "Harbour News"),
    ("Who won the chess olympiad in Budapest?", None, None, None),
]


@pytest.mark.slow  # the real model: fetch, build and ask as a user would (about 40 s)
@pytest.mark.timeout(300)
def test_fetch_then_ask_quotes_with_outlet_date_and_link(site: LocalSite, tmp_path: Path) -> None:
    """The path a newsroom takes: ``scripts.fetch`` on feeds beside a dead link, a binary and
    a malformed feed, then ``scripts.ask --json --batch``: every answer quotes its page
    verbatim with the outlet, the date and a link to the sentence."""
    urls = hostile_web(site)
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    feeds = feed_list(
        tmp_path / "feeds.txt",
        site.url("/rss.xml"),
        site.url("/culture.atom"),
        site.url("/broken.xml"),
        site.url("/files/data.bin"),
    )
    fetched = fetch_cli(fetch_cmd(feeds, corpus, index), tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "\n".join(json.dumps({"question": q}) for q, *_ in QUESTIONS) + "\n", encoding="utf-8"
    )
    ask = run(ask_cmd(index, questions), cwd=tmp_path, timeout=240)
    assert ask.returncode == 0, ask.stderr
    answers = [json.loads(line) for line in ask.stdout.splitlines()]
    bodies = {a.id: a.body for a in load_corpus(corpus).articles}
    assert len(answers) == len(QUESTIONS)
    for answer, (question, expected, story, outlet) in zip(answers, QUESTIONS, strict=True):
        assert answer["question"] == question
        if expected is None:
            assert not answer["answered"] and answer["quotes"] == []
            continue
        top = answer["quotes"][0]
        assert expected in top["text"], (question, top["text"])
        assert bodies[top["article_id"]][top["start"] : top["end"]] == top["text"]
        assert story is not None
        assert top["url"] == urls[story.slug]
        assert top["published"] == story.published.date().isoformat()
        assert top["source"] == (outlet or story.outlet)


def test_kill_9_during_a_fetch_leaves_no_half_written_file(site: LocalSite, tmp_path: Path) -> None:
    """The fetcher is killed while it writes an article (after the data, before the rename);
    the corpus holds only whole articles, and the next run finishes the job."""
    urls = [site.story(s) for s in (BRIDGE, FESTIVAL, COUNCIL)]
    corpus = tmp_path / "corpus"
    feeds = feed_list(tmp_path / "f.txt", *urls)
    # The child pauses in os.fsync of its second file so that the kill lands mid-write.
    child = (
        "import os, stat, sys, time\n"
        "real = os.fsync\n"
        "calls = []\n"
        "def paused(fd):\n"
        "    if stat.S_ISREG(os.fstat(fd).st_mode):\n"
        "        calls.append(fd)\n"
        "    if len(calls) == 2:\n"
        "        print('WRITING', flush=True)\n"
        "        time.sleep(60)\n"
        "    real(fd)\n"
        "os.fsync = paused\n"
        "from scripts.fetch import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    cmd = [
        sys.executable,
        "-c",
        child,
        *fetch_cmd(feeds, corpus, tmp_path / "i")[3:],
        "--no-build",
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        env=clean_env(**ALLOW_LOCAL_ENV),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "WRITING"
        partial = [p for p in corpus.iterdir() if p.name.endswith(".partial")]
        assert len(partial) == 1 and partial[0].stat().st_size > 0  # caught mid-write
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    load = load_corpus(corpus)
    assert load.skipped == []
    assert [a.url for a in load.articles] == [urls[0]]  # the one written before the kill
    assert all(a.body for a in load.articles)

    old = time.time() - 7200  # the leftover of a run long gone
    os.utime(partial[0], (old, old))
    summary = run_fetch(feeds, options(corpus))
    assert len(summary.new) == 2 and summary.unchanged == [article_id(urls[0])]
    assert not partial[0].exists()
    assert len(load_corpus(corpus).articles) == 3


def test_fetched_at_and_front_matter_types(site: LocalSite, tmp_path: Path) -> None:
    yes = dataclasses.replace(BRIDGE, title="yes", slug="yes")
    url = site.story(yes)
    corpus = tmp_path / "corpus"
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    [the_id] = run_fetch(feed_list(tmp_path / "f.txt", url), options(corpus)).new
    text = (corpus / f"{the_id}.md").read_text(encoding="utf-8")
    assert "title: 'yes'" in text
    stamp = next(line for line in text.splitlines() if line.startswith("fetched_at:"))
    fetched_at = dt.datetime.fromisoformat(
        stamp.split(": ", 1)[1].strip("'").replace("Z", "+00:00")
    )
    assert fetched_at >= before
    [article] = load_corpus(corpus).articles
    assert article.title == "yes"
