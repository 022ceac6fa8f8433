"""Canonical article URLs and the stable article id derived from them."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url

__all__ = ["article_id", "canonical_url", "host_of", "is_http_url"]

ID_LENGTH = 16  # hex digits of SHA-256: 64 bits, no collision in any realistic corpus


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host (and a valid port, if any).

    Never raises: ``http://[::1`` (an unclosed bracket) or ``http://host:99999/`` is simply
    not one.
    """
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises ValueError for a port that is no number or out of range
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def canonical_url(url: str) -> str:
    """``url`` without tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``ref`` ...) and
    without its fragment; scheme and host lower case, default port dropped, query sorted.

    Tracking parameters are removed by courlan (a trafilatura dependency), the rest of the
    normalisation follows RFC 3986.
    """
    try:
        normal = normalize_url(url.strip())
    except ValueError:
        normal = url.strip()
    try:
        parts = urlsplit(normal)
    except ValueError:  # not a URL at all (an unclosed IPv6 bracket): it stands for itself
        return normal
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def article_id(url: str) -> str:
    """A stable id for the article at ``url``: a hash of its canonical URL."""
    digest = hashlib.sha256(canonical_url(url).encode("utf-8")).hexdigest()
    return digest[:ID_LENGTH]


def host_of(url: str) -> str:
    """The host of ``url`` with its port (``example.com``, ``127.0.0.1:8080``); ``""`` when
    ``url`` cannot be parsed."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""
