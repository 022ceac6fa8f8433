"""A local web site on 127.0.0.1 for the fetch tests and the benchmark (pytest-httpserver).

:class:`LocalSite` serves documents from a dictionary that a test may change between runs
(an article corrected, a page gone), with ETag and Last-Modified, answering conditional GETs
with 304 the way real servers do, and counts the requests it gets. Special behaviours (a slow
page, a redirect loop, an endless body) are plain werkzeug handlers.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import format_datetime

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from testkit.news_site import Story, article_page

LOOPBACK = "127.0.0.1"
ALLOW_LOCAL = (LOOPBACK,)
"""The fetcher's private-address allow list for these servers (``FetchPolicy.allow_private``):
127.0.0.1 by name, and no other loopback address (127.0.0.2 stays refused)."""
ALLOW_LOCAL_ENV = {"FETCH_ALLOW_PRIVATE": LOOPBACK}
"""The same for a child process (``scripts.fetch``, the bot)."""
Handler = Callable[[Request], Response]
FEED_TYPE = "application/rss+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@contextmanager
def local_server(host: str = LOOPBACK) -> Iterator[HTTPServer]:
    """A threaded HTTP server on a free port of ``host`` (127.0.0.1), stopped at the end."""
    server = HTTPServer(host=host, port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@dataclass(frozen=True)
class Document:
    """A document served with validators."""

    body: bytes
    content_type: str
    last_modified: str

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


class LocalSite:
    """Documents and handlers by path on one local server; every request is counted."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.documents: dict[str, Document] = {}
        self.handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, int]] = []  # (path, status) in arrival order
        self.user_agents: set[str] = set()
        server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def put(self, path: str, body: str | bytes, content_type: str = HTML_TYPE) -> str:
        """Serve ``body`` at ``path`` (replacing what was there); its URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        stamp = "Mon, 04 Mar 2024 08:00:00 GMT"
        self.documents[path] = Document(data, content_type, stamp)
        return self.url(path)

    def story(self, story: Story, path: str | None = None) -> str:
        """Publish ``story``'s page (at its own path unless given); its URL."""
        path = path or story.path()
        url = self.url(path)
        self.put(path, article_page(story, url))
        stamp = format_datetime(story.published, usegmt=True)
        self.documents[path] = Document(self.documents[path].body, HTML_TYPE, stamp)
        return url

    def route(self, path: str, handler: Handler) -> str:
        """Answer ``path`` with ``handler``; its URL."""
        self.handlers[path] = handler
        return self.url(path)

    def remove(self, path: str) -> None:
        self.documents.pop(path, None)
        self.handlers.pop(path, None)

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.requests if p == path)

    def statuses(self, path: str) -> list[int]:
        with self._lock:
            return [s for p, s in self.requests if p == path]

    def _handle(self, request: Request) -> Response:
        response = self._respond(request)
        with self._lock:
            self.requests.append((request.path, response.status_code))
            self.user_agents.add(request.headers.get("User-Agent", ""))
        return response

    def _respond(self, request: Request) -> Response:
        handler = self.handlers.get(request.path)
        if handler is not None:
            return handler(request)
        document = self.documents.get(request.path)
        if document is None:
            return Response(
                "<html><body><h1>Page not found</h1></body></html>",
                status=404,
                content_type=HTML_TYPE,
            )
        return serve(document, request)


def serve(document: Document, request: Request) -> Response:
    """``document`` with its ETag and Last-Modified, or 304 when the request's validators match
    (If-None-Match first, as RFC 9110 says)."""
    match = request.headers.get("If-None-Match")
    since = request.headers.get("If-Modified-Since")
    unchanged = match == document.etag if match else since == document.last_modified
    if unchanged:
        response = Response(status=304)
    else:
        response = Response(document.body, content_type=document.content_type)
    response.headers["ETag"] = document.etag
    response.headers["Last-Modified"] = document.last_modified
    return response


def conditional(body: bytes, content_type: str, last_modified: str) -> Handler:
    """A handler serving ``body`` with validators, and 304 when they match."""
    document = Document(body, content_type, last_modified)
    return lambda request: serve(document, request)


@contextmanager
def dripping_server(gap: float = 1.0, host: str = LOOPBACK) -> Iterator[str]:
    """A server on ``host`` that sends its response headers one byte every ``gap`` seconds
    (for ever, in effect); its URL. Every connection gets a thread of its own."""
    listener = socket.create_server((host, 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"x" * 10_000
            for byte in head:
                if stop.wait(gap):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://{host}:{listener.getsockname()[1]}/news/drip"
    finally:
        stop.set()
        listener.close()
