"""The feed list file, and RSS / Atom feeds parsed with feedparser.

A feed list names one source a line (blank lines and ``#`` comments are ignored); a source is
a feed (RSS 0.9x/1.0/2.0 or Atom) or a single article page, told apart when it is fetched. An
``.opml`` file (an export from a feed reader) works too: its outlines' ``xmlUrl``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax import SAXParseException

import feedparser

from index.types import NewsQuoteError
from ingest.urls import is_http_url

__all__ = [
    "MAX_FEED_BYTES",
    "Feed",
    "FeedEntry",
    "FeedError",
    "FeedList",
    "FeedListError",
    "looks_like_feed",
    "newest_entries",
    "parse_feed",
    "read_feed_list",
]

MAX_FEED_BYTES = 2 * 1024 * 1024
FEED_CONTENT_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/x-rss+xml",
        "application/feed+xml",
    }
)


# feedparser's notes about a charset or a media type: the feed itself was read fine.
BENIGN = (
    feedparser.CharacterEncodingOverride,
    feedparser.CharacterEncodingUnknown,
    feedparser.NonXMLContentType,
)


class FeedListError(NewsQuoteError):
    """The feed list file is missing, unreadable or names no source."""


class FeedError(NewsQuoteError):
    """A fetched document is not a usable feed; the message says why."""


@dataclass
class FeedList:
    """The sources of a feed list file, and the lines that could not be used."""

    urls: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: where the article is, and what the feed says about it."""

    link: str
    title: str | None = None
    published: dt.datetime | None = None
    author: str | None = None


@dataclass
class Feed:
    """A parsed feed: its title, its entries, and a note when the XML was broken."""

    url: str
    title: str | None
    entries: list[FeedEntry]
    problem: str | None = None  # malformed XML that feedparser still read entries from
    unusable: list[str] = field(default_factory=list)  # entries without a usable link


# --------------------------------------------------------------------------- the list file


def read_feed_list(path: Path) -> FeedList:
    """The sources named in ``path`` (a text list, or OPML by suffix or content).

    Raises:
        FeedListError: the file is missing or unreadable, or names no source at all.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FeedListError(f"feed list {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedListError(f"cannot read feed list {str(path)!r}: {exc}") from None
    if path.suffix.lower() == ".opml" or text.lstrip().startswith(("<?xml", "<opml")):
        result = _read_opml(text, path)
    else:
        result = _read_lines(text)
    if not result.urls:
        detail = f" ({result.problems[0]})" if result.problems else ""
        raise FeedListError(f"feed list {str(path)!r} names no feed or page URL{detail}")
    return result


def _read_lines(text: str) -> FeedList:
    result = FeedList()
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if not is_http_url(line):
            result.problems.append(f"line {number}: not an http(s) URL: {line[:80]!r}")
        elif line not in seen:
            seen.add(line)
            result.urls.append(line)
    return result


def _read_opml(text: str, path: Path) -> FeedList:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FeedListError(f"feed list {str(path)!r} is not valid OPML: {exc}") from None
    result = FeedList()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("url") or "").strip()
        if not url:
            continue  # a folder of outlines
        if not is_http_url(url):
            result.problems.append(f"outline {outline.get('text')!r}: not an http(s) URL")
        elif url not in result.urls:
            result.urls.append(url)
    return result


# --------------------------------------------------------------------------- feeds


def looks_like_feed(content_type: str, body: bytes) -> bool:
    """Whether a fetched document should be read as a feed rather than as a page."""
    if content_type in FEED_CONTENT_TYPES:
        return True
    head = body[:1024].lstrip().lower()
    return head.startswith(b"<?xml") and b"<html" not in head


def parse_feed(body: bytes, url: str, content_type: str = "") -> Feed:
    """The title and entries of the feed in ``body`` (fetched from ``url``).

    Malformed XML from which feedparser still reads entries is used, with :attr:`Feed.problem`
    saying what was wrong. A feed over :data:`MAX_FEED_BYTES` is not parsed: feedparser takes
    about a second of CPU a megabyte (a 4.7 MB feed of 100k items: a minute).

    Raises:
        FeedError: the document is not a feed, is too large, or is too broken to read any
            entry from.
    """
    _check_size(body)
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed: Any = feedparser.parse(body, response_headers=headers)
    problem = _xml_problem(parsed)
    if not parsed.get("version") and not parsed.entries:
        raise FeedError(f"malformed feed ({problem})" if problem else "not an RSS or Atom feed")
    feed = Feed(
        url=url,
        title=_text(parsed.feed.get("title")),
        entries=[],
        problem=f"malformed XML ({problem})" if problem else None,
    )
    for number, entry in enumerate(parsed.entries, start=1):
        link = _text(entry.get("link"))
        if not link or not is_http_url(link):
            title = _text(entry.get("title")) or f"entry {number}"
            feed.unusable.append(f"{title[:80]!r}: no http(s) link")
            continue
        feed.entries.append(
            FeedEntry(
                link=link,
                title=_text(entry.get("title")),
                published=_entry_date(entry),
                author=_text(entry.get("author")),
            )
        )
    if problem and not feed.entries:
        raise FeedError(f"malformed feed ({problem}); no entry could be read")
    return feed


def _check_size(body: bytes) -> None:
    if len(body) > MAX_FEED_BYTES:
        limit = MAX_FEED_BYTES // (1024 * 1024)
        raise FeedError(f"feed too large to parse ({len(body):,} bytes; at most {limit} MB)")


def _xml_problem(parsed: Any) -> str | None:
    """What was wrong with the XML, if anything (encoding notes are not problems)."""
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if isinstance(exc, BENIGN):
        return None
    if isinstance(exc, SAXParseException):
        return f"{exc.getMessage()} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
    return _one_line(exc or "malformed XML")


def newest_entries(entries: list[FeedEntry], cap: int) -> tuple[list[FeedEntry], int]:
    """At most ``cap`` entries, newest first (undated ones after, in feed order), and how many
    were left out."""
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    order = sorted(
        range(len(entries)),
        key=lambda i: (entries[i].published is None, -(entries[i].published or epoch).timestamp()),
    )
    kept = [entries[i] for i in order[:cap]]
    return kept, max(0, len(entries) - cap)


def _entry_date(entry: Any) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(value), tz=dt.UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _one_line(value: object) -> str:
    return " ".join(str(value).split())[:200]
