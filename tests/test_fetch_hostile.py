"""The hostile web of issue 20, fetched through ``ingest.run``: URLs that cannot be parsed,
redirects to ``data:`` and ``javascript:``. Every bad URL is one skip line; the good page beside
it is written and the state is saved."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from index.articles import load_corpus
from ingest.http import FetchPolicy
from ingest.run import FetchOptions, FetchSummary, run_fetch
from ingest.state import STATE_FILE
from ingest.urls import article_id
from testkit.local_web import FEED_TYPE, HTML_TYPE, LocalSite, local_server
from testkit.news_site import BRIDGE, FESTIVAL, rss2
from tests.cli import clean_env

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

policy = FetchPolicy(delay=0.0, retries=0, timeout=20.0)
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
    cmd = [sys.executable, "-c", PEAK_SCRIPT, page, warm_up]
    done = subprocess.run(cmd, env=clean_env(), capture_output=True, text=True, timeout=120)
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
