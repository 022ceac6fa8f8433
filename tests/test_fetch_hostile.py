"""The hostile web of issue 20, fetched through ``ingest.run`` with 127.0.0.1 allowed: URLs that
cannot be parsed, redirects to ``data:`` and ``javascript:``, decompression bombs, links and
redirects to private addresses (a server on 127.0.0.2 that must get no request), headers
dripping a byte a second. Every bad URL is one skip line; the good page beside it is written."""

from __future__ import annotations

import dataclasses
import gzip
import json
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from werkzeug import Request, Response

from bot.settings import BotSettings, describe_validation_error
from index.corpus.articles import load_corpus
from ingest.edits import remove_article
from ingest.http import HTML_TYPES, FetchError, FetchPolicy, PoliteClient
from ingest.run import FetchOptions, FetchSummary, run_fetch
from ingest.settings import FetchSettings
from ingest.state import STATE_FILE, FetchState
from ingest.urls import article_id
from testkit.local_web import (
    ALLOW_LOCAL,
    ALLOW_LOCAL_ENV,
    FEED_TYPE,
    HTML_TYPE,
    LOOPBACK,
    LocalSite,
    dripping_server,
    local_server,
)
from testkit.news_site import BRIDGE, FESTIVAL, rss2
from tests.cli import clean_env, module_cmd, run

OTHER_LOOPBACK = "127.0.0.2"
POLICY = FetchPolicy(
    delay=0.0, backoff=0.01, retries=0, timeout=3.0, connect_timeout=1.0, allow_private=ALLOW_LOCAL
)


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


# --------------------------------------------------------------------------- decompression bombs

BOMB_MB = 300
PEAK_SCRIPT = """
import json, sys
from ingest.http import HTML_TYPES, FetchError, FetchPolicy, PoliteClient

def rss_mib(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field))
    return int(line.split()[1]) / 1024

def reset_peak():
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # VmHWM (the peak) starts again from the current RSS

policy = FetchPolicy(delay=0.0, retries=0, timeout=20.0, allow_private=("127.0.0.1",))
with PoliteClient(policy) as client:
    try:
        client.get(sys.argv[2], accept=HTML_TYPES)  # warm up: imports, TLS, the pool
    except FetchError:
        pass
    reset_peak()
    before = rss_mib("VmRSS:")
    try:
        client.get(sys.argv[1], accept=HTML_TYPES)
        reason = None
    except FetchError as exc:
        reason = str(exc)
print(json.dumps({"before": before, "after": rss_mib("VmHWM:"), "reason": reason}))
"""


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """300 MB of zeros, gzipped twice: about 660 bytes."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    layer = b"".join(inner.compress(zeros) for _ in range(BOMB_MB)) + inner.flush()
    return gzip.compress(layer, 9)


def _serve_bomb(bomb: bytes, status: int = 200) -> Callable[[Request], Response]:
    headers = {"Content-Encoding": "gzip, gzip", "Location": "/news/elsewhere"}
    return lambda request: Response(bomb, status=status, headers=headers, content_type=HTML_TYPE)


def _peak(page: str, warm_up: str) -> dict[str, Any]:
    done = run([sys.executable, "-c", PEAK_SCRIPT, page, warm_up], timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("status", [200, 302])
def test_a_gzip_bomb_stops_at_the_cap_with_little_memory(
    site: LocalSite, bomb: bytes, status: int
) -> None:
    assert len(bomb) < 1000
    page = site.route("/news/bomb", _serve_bomb(bomb, status))
    warm_up = site.story(BRIDGE)
    site.put("/news/elsewhere", "<html><body><h1>Elsewhere</h1></body></html>")
    peak = _peak(page, warm_up)
    growth = peak["after"] - peak["before"]
    print(f"peak RSS {peak['before']:.0f} -> {peak['after']:.0f} MiB (+{growth:.1f})")
    if status == 200:
        assert peak["reason"] == "too large (over 5 MB once decompressed)"
    else:  # the redirect is followed; its body is never read
        assert peak["reason"] is None
    assert growth < 4 * 5  # a small multiple of the 5 MB cap, not 300 MB


# --------------------------------------------------------------------------- private addresses


@pytest.fixture
def hidden() -> Iterator[LocalSite]:
    """A server on 127.0.0.2: loopback, but not in the allow list. It must get no request."""
    with local_server(OTHER_LOOPBACK) as server:
        yield LocalSite(server)


def _port(site: LocalSite) -> int:
    return int(site.server.port)


def test_links_and_redirects_to_private_addresses_are_refused_before_connecting(
    site: LocalSite, hidden: LocalSite, tmp_path: Path
) -> None:
    secret = hidden.put("/latest/meta-data/iam/", "<html><body><h1>secret</h1></body></html>")
    port = _port(hidden)
    good = site.story(BRIDGE)
    bounce = site.route("/news/bounce", lambda r: redirect(secret))
    private = {
        secret: f"refused: {OTHER_LOOPBACK}: 127.0.0.0/8 is Loopback",
        bounce: f"refused: {OTHER_LOOPBACK}: 127.0.0.0/8 is Loopback",
        f"http://2130706434:{port}/x": "refused: host '2130706434' is made only of digits",
        f"http://017700000002:{port}/x": "refused: host '017700000002' is made only of digits",
        f"http://0x7f.0.0.2:{port}/x": f"refused: {OTHER_LOOPBACK}: 127.0.0.0/8 is Loopback",
        f"http://[::ffff:127.0.0.2]:{port}/x": "refused: ::ffff:127.0.0.2: IPv4-mapped Address",
        "http://169.254.169.254/latest/meta-data/iam/": "refused: 169.254.169.254: 169.254.169",
        "http://10.0.0.5/admin": "refused: 10.0.0.5: 10.0.0.0/8 is Private-Use",
        "http://100.64.0.1/": "refused: 100.64.0.1: 100.64.0.0/10 is Shared",
        "http://[fd00::1]/x": "refused: fd00::1: fc00::/7 is Unique-Local",
        f"http://[::1]:{port}/x": "refused: ::1: ::1/128 is Loopback",
        "http://0.0.0.0/x": "refused: 0.0.0.0: 0.0.0.0/32 is This host",
        "http://224.0.0.1/x": "refused: 224.0.0.1: 224.0.0.0/4 is Multicast",
    }
    items = [(BRIDGE, good), *((FESTIVAL, url) for url in private)]
    site.put("/rss.xml", rss2("Harbour News", site.url("/"), items), FEED_TYPE)
    summary = run_fetch(feed_list(tmp_path / "feeds.txt", site.url("/rss.xml")), options(tmp_path))

    assert summary.new == [article_id(good)]
    reasons = skips(summary)
    for url, reason in private.items():
        assert reasons.pop(url).startswith(reason), url
    assert reasons == {}
    assert hidden.requests == []  # not one request reached 127.0.0.2


def test_a_private_host_is_allowed_by_name_address_or_block(
    site: LocalSite, hidden: LocalSite
) -> None:
    page = hidden.put("/page", "<html><head><title>T</title></head><body>x</body></html>")
    for allowed in (OTHER_LOOPBACK, "127.0.0.0/30"):
        policy = dataclasses.replace(POLICY, allow_private=(allowed,))
        with PoliteClient(policy) as client:
            assert client.get(page, accept=HTML_TYPES).status == 200
    by_name = site.url("/page").replace(LOOPBACK, "localhost")
    site.put("/page", "<html><head><title>T</title></head><body>x</body></html>")
    with PoliteClient(dataclasses.replace(POLICY, allow_private=("LocalHost",))) as client:
        assert client.get(by_name, accept=HTML_TYPES).status == 200
    nothing_allowed = dataclasses.replace(POLICY, allow_private=())
    with PoliteClient(nothing_allowed) as client, pytest.raises(FetchError, match="refused: "):
        client.get(by_name, accept=HTML_TYPES)
    with pytest.raises(ValueError, match="not a host name, IP address or CIDR block"):
        FetchPolicy(allow_private=("http://intranet/",))


def test_the_address_checked_is_the_address_connected_to(
    site: LocalSite, hidden: LocalSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first answer is allowed, a second one would not be. The name is
    resolved once and the connection goes to the address that was checked."""
    site.put("/page", "<html><head><title>T</title></head><body>x</body></html>")
    answers = iter([LOOPBACK, OTHER_LOOPBACK, OTHER_LOOPBACK])
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            lookups.append(host)
            host = next(answers)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://rebind.example:{_port(site)}/page"
    with PoliteClient(POLICY) as client:
        response = client.get(url, accept=HTML_TYPES)
    assert response.status == 200 and response.final_url == url
    assert lookups == ["rebind.example"] and hidden.requests == []


# --------------------------------------------------------------------------- deadlines


def test_headers_dripping_a_byte_a_second_end_at_the_request_deadline() -> None:
    policy = dataclasses.replace(POLICY, timeout=2.0, retries=0)
    with dripping_server() as url, PoliteClient(policy) as client:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"^timed out \(limit 2 s\)$"):
            client.get(url, accept=HTML_TYPES)
        assert time.monotonic() - started < 4


def test_a_run_ends_at_its_own_deadline(site: LocalSite, tmp_path: Path) -> None:
    good = site.story(BRIDGE)
    patient = dataclasses.replace(POLICY, timeout=30.0, retries=0)
    with dripping_server() as drip:
        run = FetchOptions(corpus_dir=tmp_path, policy=patient, run_timeout=2.0)
        started = time.monotonic()
        summary = run_fetch(feed_list(tmp_path / "feeds.txt", good, drip), run)
    assert time.monotonic() - started < 5
    assert summary.new == [article_id(good)]
    assert skips(summary) == {drip: "the run's time limit passed before this URL was fetched"}


# --------------------------------------------------------------------------- the command line


def test_the_issue_replayed_through_scripts_fetch(
    site: LocalSite, hidden: LocalSite, bomb: bytes, tmp_path: Path
) -> None:
    """``scripts.fetch --timeout 5 --retries 0`` with FETCH_ALLOW_PRIVATE=127.0.0.1: a dripping
    server, a bomb, a data: redirect, a feed link and a redirect to 127.0.0.2, beside a good
    page. The run ends within 15 s, writes the good page and nothing reaches 127.0.0.2."""
    good = site.story(BRIDGE)
    secret = hidden.put("/secret", "<html><body><h1>secret</h1></body></html>")
    bad = {
        "data": site.route("/to-data", lambda r: redirect("data:text/html,<h1>x</h1>")),
        "bounce": site.route("/bounce", lambda r: redirect(secret)),
        "bomb": site.route("/bomb", _serve_bomb(bomb)),
    }
    site.put("/rss.xml", rss2("Harbour", site.url("/"), [(FESTIVAL, secret)]), FEED_TYPE)
    corpus = tmp_path / "corpus"
    with dripping_server() as drip:
        feeds = feed_list(tmp_path / "feeds.txt", drip, *bad.values(), good, site.url("/rss.xml"))
        cmd = module_cmd("scripts.fetch", "--feeds", str(feeds), "--no-build", "--corpus")
        cmd += [str(corpus), "--timeout", "5", "--retries", "0", "--delay", "0"]
        started = time.monotonic()
        done = run(cmd, env=clean_env(**ALLOW_LOCAL_ENV), timeout=60)
        seconds = time.monotonic() - started
    print(f"scripts.fetch took {seconds:.1f} s")
    assert done.returncode == 0, done.stderr
    assert seconds < 15
    lines = done.stdout.strip().splitlines()
    assert lines[0].endswith(": 1 new, 0 updated, 0 unchanged, 5 skipped.")
    skipped = {line.split(": ", 1)[0].removeprefix("  skipped "): line for line in lines[1:]}
    assert "timed out (limit 5 s)" in skipped[drip]
    assert "invalid URL or redirect target" in skipped[bad["data"]]
    assert "refused: 127.0.0.2: 127.0.0.0/8 is Loopback" in skipped[bad["bounce"]]
    assert "too large (over 5 MB once decompressed)" in skipped[bad["bomb"]]
    assert "refused: 127.0.0.2" in skipped[secret]
    assert [a.id for a in load_corpus(corpus).articles] == [article_id(good)]
    assert hidden.requests == []


# --------------------------------------------------------------------------- two processes


def test_a_remove_during_a_fetch_run_in_another_process_is_kept(
    site: LocalSite, tmp_path: Path
) -> None:
    """An admin removes an article while ``scripts.fetch`` (another process) is fetching it:
    it stays removed, and what the run fetched besides it is written and remembered."""
    bridge, festival = site.story(BRIDGE), site.story(FESTIVAL)
    corpus = tmp_path / "corpus"
    feeds = feed_list(tmp_path / "feeds.txt", bridge)
    assert run_fetch(feeds, options(corpus)).new == [article_id(bridge)]

    fetching, removed = threading.Event(), threading.Event()
    corrected = site.documents[BRIDGE.path()].body.replace(b"40 steel", b"41 steel")

    def held(request: Request) -> Response:  # the run's request waits for the removal
        fetching.set()
        removed.wait(30)
        return Response(corrected, content_type=HTML_TYPE)

    site.route(BRIDGE.path(), held)
    feed_list(feeds, bridge, festival)
    cmd = [sys.executable, "-m", "scripts.fetch", "--feeds", str(feeds), "--no-build"]
    cmd += ["--corpus", str(corpus), "--retries", "0", "--delay", "0"]
    env = clean_env(**ALLOW_LOCAL_ENV)
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) as child:
        assert fetching.wait(30)
        remove_article(corpus, article_id(bridge))
        removed.set()
        out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    assert "1 new, 0 updated" in out and "removed from the corpus by an admin" in out
    assert [a.id for a in load_corpus(corpus).articles] == [article_id(festival)]
    state = FetchState.load(corpus / STATE_FILE)
    assert state.removed == {article_id(bridge)}
    assert state.get(festival) is not None  # the run's own news is kept too


def test_fetch_allow_private_is_read_by_the_fetcher_and_the_bot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", " intranet.Example , 127.0.0.1,10.1.0.0/16 ")
    expected = ("intranet.example", "127.0.0.1/32", "10.1.0.0/16")
    assert FetchSettings(_env_file=None).fetch_allow_private == expected
    assert BotSettings(_env_file=None).fetch.fetch_allow_private == expected
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "http://intranet/")
    with pytest.raises(ValidationError) as caught:
        BotSettings(_env_file=None)
    assert describe_validation_error(caught.value) == (
        "invalid setting FETCH_ALLOW_PRIVATE: not a host name, IP address or CIDR block: "
        "'http://intranet/'"
    )
    monkeypatch.delenv("FETCH_ALLOW_PRIVATE")
    assert FetchSettings(_env_file=None).fetch_allow_private == ()  # nothing private by default
