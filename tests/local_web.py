"""A local web server on 127.0.0.1 for the fetch tests (pytest-httpserver, threaded).

:func:`serve_site` publishes stories from :mod:`tests.news_site` at their paths, with ETag and
Last-Modified, answering conditional GETs with 304 the way real servers do.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import format_datetime

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.news_site import Story, article_page

LOOPBACK = "127.0.0.1"


@contextmanager
def local_server() -> Iterator[HTTPServer]:
    """A threaded HTTP server on a free port of 127.0.0.1, stopped at the end."""
    server = HTTPServer(host=LOOPBACK, port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


class Hits:
    """Requests per path, and how many a server handled at once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_path: dict[str, int] = {}
        self.statuses: list[tuple[str, int]] = []
        self.user_agents: set[str] = set()

    def record(self, request: Request, status: int) -> None:
        with self._lock:
            self.by_path[request.path] = self.by_path.get(request.path, 0) + 1
            self.statuses.append((request.path, status))
            self.user_agents.add(request.headers.get("User-Agent", ""))

    def count(self, path: str) -> int:
        with self._lock:
            return self.by_path.get(path, 0)


def conditional(
    body: bytes, content_type: str, last_modified: str, hits: Hits | None = None
) -> Callable[[Request], Response]:
    """A handler serving ``body`` with an ETag and Last-Modified, and 304 when they match."""
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'

    def handler(request: Request) -> Response:
        unchanged = request.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in request.headers
            and request.headers.get("If-Modified-Since") == last_modified
        )
        response = Response(status=304) if unchanged else Response(body, content_type=content_type)
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = last_modified
        if hits is not None:
            hits.record(request, response.status_code)
        return response

    return handler


def serve_story(server: HTTPServer, story: Story, hits: Hits | None = None) -> str:
    """Serve ``story``'s page (with validators); its absolute URL."""
    url = server.url_for(story.path())
    page = article_page(story, url).encode("utf-8")
    stamp = format_datetime(story.published, usegmt=True)
    server.expect_request(story.path()).respond_with_handler(
        conditional(page, "text/html; charset=utf-8", stamp, hits)
    )
    return url


def serve_feed(
    server: HTTPServer, path: str, text: str, hits: Hits | None = None, *, content_type: str = ""
) -> str:
    """Serve a feed document at ``path`` (with validators); its absolute URL."""
    server.expect_request(path).respond_with_handler(
        conditional(
            text.encode("utf-8"),
            content_type or "application/rss+xml; charset=utf-8",
            "Mon, 04 Mar 2024 08:00:00 GMT",
            hits,
        )
    )
    return server.url_for(path)
