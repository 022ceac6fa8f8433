"""The fetcher's httpx transport: vetted addresses only, and a wall-clock deadline per request.

* **Addresses.** Every request's URL is checked (each redirect is a request of its own), then
  the connection goes through ssrfguard's :class:`~ssrfguard.httpx.SafeBackend`, which resolves
  the host once, checks every address and connects to the one it checked: a second DNS answer
  cannot swap in another address. The Host header and the TLS server name stay the URL's host
  (httpcore passes it to ``start_tls``), so certificates are verified against the name.
* **Deadline.** httpx's timeouts apply to each read, so a server sending its headers a byte a
  second holds a request for ever. :func:`deadline` sets the moment a request must be over by
  (from connecting to the last byte); every connect, read, write and TLS handshake of the
  request gets at most the time left, and none starts after it: ``httpx.ReadTimeout`` &c.
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx
from ssrfguard.httpx import SafeBackend

from ingest.addresses import PrivateAllowList

__all__ = ["GuardedTransport", "deadline"]

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "fetch_deadline", default=None
)
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


@contextlib.contextmanager
def deadline(when: float) -> Iterator[None]:
    """Requests made in this block (on this thread) end by ``when`` (``time.monotonic()``)."""
    token = _DEADLINE.set(when)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _time_left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout``, shortened to the time left before the deadline; ``error`` once it passed."""
    when = _DEADLINE.get()
    if when is None:
        return timeout
    left = when - time.monotonic()
    if left <= 0:
        raise error("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the current request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """ssrfguard's backend for the request's host (by :class:`PrivateAllowList`), with
    deadline streams."""

    def __init__(self, allow: PrivateAllowList) -> None:
        self._allow = allow
        self._backends: dict[int, SafeBackend] = {}

    def _backend(self, host: str) -> SafeBackend:
        policy = self._allow.policy_for(host)
        backend = self._backends.get(id(policy))
        if backend is None:
            backend = self._backends[id(policy)] = SafeBackend(policy=policy)
        return backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        stream = self._backend(host).connect_tcp(host, port, left, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never fetched")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport, connecting through :class:`_GuardedBackend`.

    ssrfguard's own ``SafeTransport`` builds its pool the same way (the pool takes a network
    backend; httpx's transport does not), but one policy for every host: this one picks the
    policy by host name, so that ``FETCH_ALLOW_PRIVATE`` can name hosts.
    """

    def __init__(self, allow: PrivateAllowList) -> None:
        super().__init__(trust_env=False, limits=_LIMITS)
        self.allow = allow
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=_LIMITS.max_connections,
            max_keepalive_connections=_LIMITS.max_keepalive_connections,
            keepalive_expiry=_LIMITS.keepalive_expiry,
            network_backend=_GuardedBackend(allow),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Check the URL (scheme, credentials, a literal or encoded address), then send."""
        self.allow.policy_for(request.url.host).check_url(str(request.url))
        return super().handle_request(request)
