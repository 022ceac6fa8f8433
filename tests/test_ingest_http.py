"""The polite HTTP client against a real local server on 127.0.0.1 (pytest-httpserver):
redirect limits, size caps while streaming, content types, retries, timeouts, conditional GET,
the per-host limit and delay, and the User-Agent."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ingest.http import HTML_TYPES, USER_AGENT, FetchError, FetchPolicy, PoliteClient, Validators
from testkit.local_web import ALLOW_LOCAL, conditional, local_server

PAGE = b"<!DOCTYPE html><html><head><title>T</title></head><body><p>Hello.</p></body></html>"
FAST = FetchPolicy(
    delay=0.0, backoff=0.01, timeout=2.0, connect_timeout=1.0, allow_private=ALLOW_LOCAL
)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with local_server() as running:
        yield running


def test_html_page_with_user_agent_and_validators(server: HTTPServer) -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("User-Agent", ""))
        response = Response(PAGE, content_type="text/html; charset=ISO-8859-1")
        response.headers["ETag"] = '"v1"'
        response.headers["Last-Modified"] = "Sun, 03 Mar 2024 10:00:00 GMT"
        return response

    server.expect_request("/page").respond_with_handler(handler)
    with PoliteClient(FAST) as client:
        got = client.get(server.url_for("/page"), accept=HTML_TYPES)
    assert got.status == 200 and got.body == PAGE
    assert (got.content_type, got.charset) == ("text/html", "ISO-8859-1")
    assert got.validators == Validators('"v1"', "Sun, 03 Mar 2024 10:00:00 GMT")
    assert seen == [USER_AGENT]


def test_conditional_get_returns_not_modified(server: HTTPServer) -> None:
    server.expect_request("/page").respond_with_handler(
        conditional(PAGE, "text/html", "Sun, 03 Mar 2024 10:00:00 GMT")
    )
    url = server.url_for("/page")
    with PoliteClient(FAST) as client:
        first = client.get(url, accept=HTML_TYPES)
        by_etag = client.get(url, accept=HTML_TYPES, validators=first.validators)
        by_date = client.get(
            url, accept=HTML_TYPES, validators=Validators(None, first.validators.last_modified)
        )
        stale = client.get(url, accept=HTML_TYPES, validators=Validators('"other"'))
    assert first.status == 200
    assert by_etag.not_modified and by_etag.body == b""
    assert by_date.not_modified
    assert stale.status == 200 and stale.body == PAGE


def test_redirects_are_followed_up_to_five(server: HTTPServer) -> None:
    for n in range(5):
        server.expect_request(f"/r{n}").respond_with_data(
            "", status=302, headers={"Location": f"/r{n + 1}"}
        )
    server.expect_request("/r5").respond_with_data(PAGE, content_type="text/html")
    server.expect_request("/r6").respond_with_data("", status=301, headers={"Location": "/r0"})
    server.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with PoliteClient(FAST) as client:
        got = client.get(server.url_for("/r0"), accept=HTML_TYPES)
        assert got.final_url == server.url_for("/r5")
        with pytest.raises(FetchError, match="too many redirects"):
            client.get(server.url_for("/r6"), accept=HTML_TYPES)  # six hops
        with pytest.raises(FetchError, match="too many redirects") as loop:
            client.get(server.url_for("/loop"), accept=HTML_TYPES)
    assert not loop.value.transient


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("application/octet-stream", bytes(range(256)) * 8),
        ("application/json", b'{"a": 1}'),
    ],
)
def test_non_html_content_types_are_refused(
    server: HTTPServer, content_type: str, body: bytes
) -> None:
    server.expect_request("/file").respond_with_data(body, content_type=content_type)
    with (
        PoliteClient(FAST) as client,
        pytest.raises(FetchError, match=f"content type {content_type}"),
    ):
        client.get(server.url_for("/file"), accept=HTML_TYPES)


def test_missing_or_generic_content_type_is_decided_by_the_content(server: HTTPServer) -> None:
    def untyped(body: bytes, content_type: str | None) -> Response:
        response = Response(body, content_type=content_type or "text/html")
        if content_type is None:
            del response.headers["Content-Type"]
        return response

    def huge_binary(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(8 * 1024):  # 8 MB if read to the end
                yield b"\x00\x01\x02\x03" * 256

        return Response(chunks(), content_type="application/octet-stream")

    server.expect_request("/html").respond_with_handler(lambda r: untyped(PAGE, None))
    server.expect_request("/page").respond_with_handler(
        lambda r: untyped(PAGE, "application/octet-stream")
    )
    server.expect_request("/blob").respond_with_handler(lambda r: untyped(b"\x00\x01bin", None))
    server.expect_request("/huge").respond_with_handler(huge_binary)
    with PoliteClient(FAST) as client:
        assert client.get(server.url_for("/html"), accept=HTML_TYPES).content_type == "text/html"
        got = client.get(server.url_for("/page"), accept=HTML_TYPES)
        assert (got.content_type, got.body) == ("text/html", PAGE)
        with pytest.raises(FetchError, match=r"\(no content type, and the content is neither\)"):
            client.get(server.url_for("/blob"), accept=HTML_TYPES)
        started = time.perf_counter()
        with pytest.raises(
            FetchError, match=r"content type application/octet-stream, and the content is neither"
        ):
            client.get(server.url_for("/huge"), accept=HTML_TYPES)
        assert time.perf_counter() - started < 2.0  # dropped after its first bytes


def test_size_cap_by_header_and_while_streaming(server: HTTPServer) -> None:
    big = b"<html>" + b"x" * 3000
    server.expect_request("/declared").respond_with_data(big, content_type="text/html")

    def endless(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            yield b"<!DOCTYPE html><html><body>"
            for _ in range(10_000):  # 10 MB if read to the end
                yield b"y" * 1024

        return Response(chunks(), content_type="text/html")  # chunked: no Content-Length

    server.expect_request("/stream").respond_with_handler(endless)
    policy = FetchPolicy(delay=0, backoff=0.01, max_bytes=2048, allow_private=ALLOW_LOCAL)
    with PoliteClient(policy) as client:
        with pytest.raises(FetchError, match=r"too large \(3,006 bytes; limit 2,048 bytes\)"):
            client.get(server.url_for("/declared"), accept=HTML_TYPES)
        started = time.perf_counter()
        with pytest.raises(FetchError, match="too large"):
            client.get(server.url_for("/stream"), accept=HTML_TYPES)
        assert time.perf_counter() - started < 2.0  # cut off, not read to the end


@pytest.mark.parametrize(("status", "phrase"), [(404, "Not Found"), (410, "Gone"), (403, "")])
def test_client_errors_are_not_retried(server: HTTPServer, status: int, phrase: str) -> None:
    server.expect_request("/gone").respond_with_data("no", status=status)
    with PoliteClient(FAST) as client, pytest.raises(FetchError) as caught:
        client.get(server.url_for("/gone"), accept=HTML_TYPES)
    assert str(caught.value).startswith(f"HTTP {status} {phrase}")
    assert len(server.log) == 1 and not caught.value.transient


def test_server_errors_are_retried_with_back_off(server: HTTPServer) -> None:
    calls: list[float] = []

    def flaky(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) < 3:
            return Response("busy", status=503)
        return Response(PAGE, content_type="text/html")

    server.expect_request("/flaky").respond_with_handler(flaky)
    server.expect_request("/down").respond_with_data("oops", status=500)
    policy = FetchPolicy(delay=0, backoff=0.1, retries=2, allow_private=ALLOW_LOCAL)
    with PoliteClient(policy) as client:
        assert client.get(server.url_for("/flaky"), accept=HTML_TYPES).body == PAGE
        with pytest.raises(FetchError, match=r"HTTP 500 Internal Server Error after 3 tries"):
            client.get(server.url_for("/down"), accept=HTML_TYPES)
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19  # 0.1 s, then doubled


def test_timeouts_are_retried_then_reported(server: HTTPServer) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response(PAGE, content_type="text/html")

    server.expect_request("/slow").respond_with_handler(slow)
    policy = dataclasses.replace(FAST, retries=1, timeout=0.3, connect_timeout=0.3)
    try:
        with PoliteClient(policy) as client, pytest.raises(FetchError) as caught:
            client.get(server.url_for("/slow"), accept=HTML_TYPES)
    finally:
        release.set()
    assert str(caught.value) == "timed out (limit 0.3 s) after 2 tries"
    assert caught.value.transient


def test_refused_connection_is_one_line() -> None:
    with local_server() as gone:
        url = gone.url_for("/page")
    with PoliteClient(FAST) as client, pytest.raises(FetchError) as caught:
        client.get(url, accept=HTML_TYPES)
    assert str(caught.value).startswith("connection failed (ConnectError")
    assert "\n" not in str(caught.value)


def _get_all(client: PoliteClient, urls: list[str]) -> None:
    threads = [
        threading.Thread(target=client.get, args=(url,), kwargs={"accept": HTML_TYPES})
        for url in urls
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_at_most_two_requests_at_a_time_per_host(server: HTTPServer) -> None:
    lock = threading.Lock()
    active = 0
    peak = 0

    def handler(request: Request) -> Response:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.2)
        with lock:
            active -= 1
        return Response(PAGE, content_type="text/html")

    for n in range(6):
        server.expect_request(f"/p{n}").respond_with_handler(handler)
    with PoliteClient(FAST) as client:
        _get_all(client, [server.url_for(f"/p{n}") for n in range(6)])
    assert peak == 2  # parallel, but never more than two


def test_polite_delay_between_requests_to_one_host(server: HTTPServer) -> None:
    starts: list[float] = []

    def handler(request: Request) -> Response:
        starts.append(time.monotonic())
        return Response(PAGE, content_type="text/html")

    for n in range(5):
        server.expect_request(f"/q{n}").respond_with_handler(handler)
    with PoliteClient(FetchPolicy(delay=0.15, backoff=0.01, allow_private=ALLOW_LOCAL)) as client:
        _get_all(client, [server.url_for(f"/q{n}") for n in range(5)])
    assert max(starts) - min(starts) >= 4 * 0.15 * 0.9  # four gaps (timer slack allowed)


@pytest.mark.parametrize(
    "kwargs",
    [{"max_bytes": 0}, {"per_host": 0}, {"timeout": 0}, {"delay": -1}, {"retries": -1}],
)
def test_policy_rejects_bad_numbers(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FetchPolicy(**kwargs)  # type: ignore[arg-type]
