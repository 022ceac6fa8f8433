"""A polite HTTP client for feeds and article pages (httpx).

Politeness and safety, all in :class:`FetchPolicy`: a clear User-Agent; a wall-clock deadline
per request, from connecting to the last byte (:mod:`ingest.transport`), and one per run; no
private, loopback or link-local address unless ``allow_private`` names it
(:mod:`ingest.addresses`), checked before connecting and at every redirect; at most 5
redirects, whose bodies are never read; a size cap on the decoded body, counted as it streams
(:mod:`ingest.decoding`: a decompression bomb is cut off like a multi-megabyte binary); only
the content types the caller accepts; at most 2 requests at a time per host and a minimum gap
between two starts on one host; retries with exponential back-off on 5xx, 429, timeouts and
dropped connections; conditional GET with the ETag and Last-Modified of the previous fetch.
Every failure is a :class:`FetchError` with a one-line reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus

import httpx
from ssrfguard import SSRFGuardError

from index.types import NewsQuoteError
from ingest.addresses import PrivateAllowList, refusal
from ingest.decoding import DecodingError, StreamDecoder
from ingest.transport import GuardedTransport
from ingest.transport import deadline as request_deadline
from ingest.urls import host_of

__all__ = [
    "HTML_TYPES",
    "USER_AGENT",
    "FetchError",
    "FetchPolicy",
    "PoliteClient",
    "Response",
    "Validators",
]

USER_AGENT = "NewsQuoteFetcher/0.1 (fetches news articles to quote; 2 requests at a time per host)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Types that say nothing about the content (a server guessing from a file name it does not
# know): the first bytes decide whether it is HTML or a feed.
GENERIC_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "text/plain", "application/unknown"}
)
SNIFF_BYTES = 2048
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After is not waited for


class FetchError(NewsQuoteError):
    """A URL could not be fetched; ``transient`` when trying later may succeed."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


@dataclass(frozen=True)
class FetchPolicy:
    """Limits and manners of the fetcher (every number can be set on the command line)."""

    user_agent: str = USER_AGENT
    timeout: float = 20.0  # seconds for one request, from connecting to the last byte
    connect_timeout: float = 5.0
    max_redirects: int = 5
    max_bytes: int = 5 * 1024 * 1024
    per_host: int = 2  # requests at a time to one host
    delay: float = 0.5  # seconds between two request starts on one host
    retries: int = 2  # further tries after a 5xx, 429, timeout or dropped connection
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    allow_private: tuple[str, ...] = ()  # FETCH_ALLOW_PRIVATE: hosts, IPs, CIDR blocks

    def __post_init__(self) -> None:
        PrivateAllowList.parse(self.allow_private)  # ValueError for an entry that is none
        if self.max_bytes < 1 or self.per_host < 1 or self.max_redirects < 0:
            raise ValueError("max_bytes and per_host must be positive, max_redirects >= 0")
        if min(self.timeout, self.connect_timeout) <= 0 or min(self.delay, self.backoff) < 0:
            raise ValueError("timeouts must be positive; delay and backoff not negative")
        if self.retries < 0:
            raise ValueError("retries must be >= 0")


@dataclass(frozen=True)
class Validators:
    """What a server said about a document's version, for the next conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True)
class Response:
    """A fetched document (or a 304: ``not_modified`` with an empty body)."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    content_type: str = ""
    charset: str | None = None
    body: bytes = b""
    validators: Validators = field(default_factory=Validators)

    @property
    def not_modified(self) -> bool:
        return self.status == HTTPStatus.NOT_MODIFIED


class _HostGate:
    """At most ``slots`` requests at a time to one host, starts at least ``gap`` apart."""

    def __init__(self, slots: int, gap: float) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._gap = gap
        self._lock = threading.Lock()
        self._next_start = 0.0

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._slots:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start)
                self._next_start = start + self._gap
            if start > now:
                time.sleep(start - now)
            yield


class PoliteClient:
    """Fetches URLs under a :class:`FetchPolicy`; safe to share between threads."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        p = self.policy
        transport = GuardedTransport(PrivateAllowList.parse(p.allow_private))
        self._client = httpx.Client(
            headers={"User-Agent": p.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(p.timeout, connect=p.connect_timeout),
            follow_redirects=False,  # followed by _opened, which never reads a redirect's body
            transport=transport,
            trust_env=False,  # never a proxy from the environment
        )
        self._gates: dict[str, _HostGate] = {}
        self._gates_lock = threading.Lock()
        self._sleep = time.sleep

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(
        self,
        url: str,
        *,
        accept: frozenset[str],
        validators: Validators | None = None,
        until: float | None = None,
    ) -> Response:
        """GET ``url``, retrying transient failures, if its content type is in ``accept``;
        ``until`` (``time.monotonic()``): the end of the whole run, no request goes past it.

        Raises:
            FetchError: an HTTP error, too many redirects, a timeout, a refused connection or
                address, an unaccepted content type or a body over the size cap (one line).
        """
        attempts = self.policy.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                with self._gate(url).turn():
                    return self._get_once(url, accept, validators, _RunClock(until))
            except _Retry as retry:
                if attempt == attempts:
                    tries = f" after {attempts} tries" if attempts > 1 else ""
                    raise FetchError(f"{retry.reason}{tries}", transient=True) from None
                wait = max(self.policy.backoff * 2 ** (attempt - 1), retry.after or 0.0)
                _RunClock(until).check(wait)
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _gate(self, url: str) -> _HostGate:
        host = host_of(url)
        with self._gates_lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = _HostGate(self.policy.per_host, self.policy.delay)
                self._gates[host] = gate
            return gate

    def _get_once(
        self, url: str, accept: frozenset[str], validators: Validators | None, run: _RunClock
    ) -> Response:
        run.check()
        deadline = run.cut(time.monotonic() + self.policy.timeout)
        headers = validators.headers() if validators else {}
        try:
            with request_deadline(deadline), self._opened(url, headers) as response:
                return self._read(url, response, accept, deadline)
        except SSRFGuardError as exc:
            raise FetchError(refusal(exc)) from None
        except httpx.TooManyRedirects:
            raise FetchError(
                f"too many redirects (more than {self.policy.max_redirects}, or a loop)"
            ) from None
        except httpx.TimeoutException:
            run.check()
            raise _Retry(f"timed out (limit {self.policy.timeout:g} s)") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Retry(f"connection failed ({_describe(exc)})") from None
        except httpx.HTTPError as exc:  # an unsupported scheme, a bad header
            raise FetchError(f"cannot fetch ({_describe(exc)})") from None
        except httpx.InvalidURL as exc:  # not an HTTPError: the URL or a redirect's target
            raise FetchError(f"invalid URL or redirect target ({_describe(exc)})") from None

    @contextmanager
    def _opened(self, url: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
        """The streaming response at the end of the redirects (at most ``max_redirects``).

        A redirect's body is never read: httpx's own redirect handling reads and decodes it
        whole, so a decompression bomb in a 302 would get past the size cap.
        """
        request = self._client.build_request("GET", url, headers=headers)
        for _ in range(self.policy.max_redirects + 1):
            response = self._client.send(request, stream=True)
            if response.next_request is None:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.close()
            request = response.next_request
        raise httpx.TooManyRedirects("too many redirects", request=request)

    def _read(
        self, url: str, response: httpx.Response, accept: frozenset[str], deadline: float
    ) -> Response:
        status = response.status_code
        final_url = str(response.url)
        if status == HTTPStatus.NOT_MODIFIED:
            return Response(url, final_url, status, validators=_validators(response))
        if status in RETRY_STATUSES:
            raise _Retry(f"HTTP {status} {_phrase(status)}", after=_retry_after(response))
        if status >= 400:
            raise FetchError(f"HTTP {status} {_phrase(status)}")
        if status != HTTPStatus.OK:
            raise FetchError(f"unexpected HTTP {status} {_phrase(status)}")
        content_type, charset = _content_type(response.headers.get("content-type", ""))
        generic = content_type in GENERIC_TYPES  # says nothing: the content decides
        if not generic and content_type not in accept:
            raise FetchError(f"not an HTML page or feed (content type {content_type})")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.policy.max_bytes:
            raise FetchError(f"too large ({int(declared):,} bytes; limit {self._limit()})")
        body = self._body(response, deadline, sniff_for=accept if generic else None)
        if generic:
            content_type = _sniff(body)
        return Response(url, final_url, status, content_type, charset, body, _validators(response))

    def _body(
        self, response: httpx.Response, deadline: float, *, sniff_for: frozenset[str] | None
    ) -> bytes:
        """The decoded body, up to the size cap; with ``sniff_for``, its first bytes must look
        like one of those types (so a binary served as octet-stream is dropped at once).

        Raw bytes are decoded here, a piece at a time (:mod:`ingest.decoding`), and counted as
        they come: a decompression bomb stops at the cap like an endless body.
        """
        decoder = _decoder(response)
        chunks: list[bytes] = []
        size = raw_size = 0
        for raw in response.iter_raw():
            raw_size += len(raw)
            if raw_size > self.policy.max_bytes:
                raise FetchError(f"too large (over {self._limit()})")
            for piece in _decoded(decoder, raw):
                size += len(piece)
                if size > self.policy.max_bytes:
                    raise FetchError(f"too large (over {self._limit()}{decoder.note})")
                chunks.append(piece)
                if sniff_for is not None and size >= SNIFF_BYTES:
                    self._check_sniffed(b"".join(chunks), response, sniff_for)
                    sniff_for = None
            if time.monotonic() > deadline:
                raise _Retry(f"timed out (limit {self.policy.timeout:g} s)")
        body = b"".join(chunks)
        if sniff_for is not None:
            self._check_sniffed(body, response, sniff_for)
        return body

    @staticmethod
    def _check_sniffed(head: bytes, response: httpx.Response, accept: frozenset[str]) -> None:
        if _sniff(head) not in accept:
            declared = response.headers.get("content-type", "").partition(";")[0].strip()
            what = f"content type {declared}" if declared else "no content type"
            raise FetchError(f"not an HTML page or feed ({what}, and the content is neither)")

    def _limit(self) -> str:
        mb = self.policy.max_bytes / (1024 * 1024)
        return f"{mb:g} MB" if mb >= 1 else f"{self.policy.max_bytes:,} bytes"


@dataclass(frozen=True)
class _RunClock:
    """The end of a whole run (``time.monotonic()``), or None for no end."""

    until: float | None

    def cut(self, deadline: float) -> float:
        """``deadline``, or the run's end when that comes first."""
        return deadline if self.until is None else min(deadline, self.until)

    def check(self, wait: float = 0.0) -> None:
        """Raise when the run's end has passed (or will have, after ``wait`` seconds)."""
        if self.until is not None and time.monotonic() + wait >= self.until:
            raise FetchError("the run's time limit passed before this URL was fetched")


class _Retry(Exception):
    """A transient failure inside one attempt."""

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


def _decoder(response: httpx.Response) -> StreamDecoder:
    try:
        return StreamDecoder(response.headers.get("content-encoding", ""))
    except DecodingError as exc:
        raise FetchError(str(exc)) from None


def _decoded(decoder: StreamDecoder, raw: bytes) -> Iterator[bytes]:
    try:
        yield from decoder.feed(raw)
    except DecodingError as exc:
        raise FetchError(str(exc)) from None


def _validators(response: httpx.Response) -> Validators:
    return Validators(
        etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified")
    )


def _content_type(header: str) -> tuple[str, str | None]:
    """The media type (lower case) and charset of a Content-Type header."""
    media, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media.strip().lower(), charset


def _sniff(body: bytes) -> str:
    """``text/html`` or ``application/xml`` when the first bytes look like it, else ``""``."""
    head = body[:SNIFF_BYTES].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if b"\x00" in head:
        return ""  # binary (or UTF-16, which no news site serves)
    if head.startswith(b"<?xml") and any(tag in head for tag in (b"<rss", b"<feed", b"<rdf")):
        return "application/xml"
    if any(tag in head for tag in (b"<!doctype html", b"<html", b"<head", b"<body")):
        return "text/html"
    if head.startswith((b"<rss", b"<feed", b"<rdf:rdf")):
        return "application/xml"
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _describe(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
