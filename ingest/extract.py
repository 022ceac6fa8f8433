"""The article in a fetched page: main text and metadata by trafilatura, gaps filled from the
feed entry that linked to it.

The body is the page's main text, one paragraph per block, paragraphs separated by a blank
line (the shape :mod:`index.corpus.articles` reads back from the Markdown file). Navigation, ads,
comments and scripts are left out by trafilatura; a page with too little text (a paywall, a
script-only page) is an :class:`ExtractionError`, never an empty article.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from index.corpus.articles import html_fields
from index.corpus.caps import MAX_ARTICLE_CHARS, MAX_TITLE_CHARS, cut_body, cut_title
from index.corpus.text import visible
from index.types import NewsQuoteError
from ingest.feeds import FeedEntry
from ingest.urls import host_of

__all__ = ["MIN_WORDS", "ExtractionError", "Page", "extract_page"]

logger = logging.getLogger(__name__)

MIN_WORDS = 30  # less main text than this is a teaser, a paywall or a script-only page
_PAYWALL = re.compile(rb"[\"']isAccessibleForFree[\"']\s*:\s*[\"']?false", re.IGNORECASE)


class ExtractionError(NewsQuoteError):
    """The page holds no article text that can be used; the message says why."""


@dataclass(frozen=True)
class Page:
    """The article of one page, ready to be written."""

    url: str
    title: str
    body: str
    published: str | None = None  # ISO 8601: a date, or a date and time from the feed
    source: str | None = None
    author: str | None = None

    @property
    def words(self) -> int:
        return len(self.body.split())


def extract_page(
    html: bytes,
    url: str,
    *,
    charset: str | None = None,
    entry: FeedEntry | None = None,
    feed_title: str | None = None,
) -> Page:
    """The article at ``url`` from its HTML; ``entry`` and ``feed_title`` fill gaps.

    Raises:
        ExtractionError: no title, or less than :data:`MIN_WORDS` words of main text.
    """
    fields = _extract(_decode(html, charset), url)
    text = str(fields.get("text") or "")
    title = _capped_title(_one_line(fields.get("title")) or (entry.title if entry else None), url)
    body = _capped_body(_body(text, title), url)
    words = len(body.split())
    if words < MIN_WORDS:
        found = f"only {words} words of text" if words else "no article text"
        why = "paywall" if _PAYWALL.search(html) else "paywall or script-only page?"
        raise ExtractionError(f"{found} found ({why})")
    if not title:
        raise ExtractionError("no title (no <title>, og:title, <h1> or feed title)")
    return Page(
        url=url,
        title=title,
        body=body,
        published=_published(fields.get("date"), entry),
        source=_source(fields.get("sitename"), feed_title, url),
        author=_one_line(fields.get("author")) or (entry.author if entry else None),
    )


def _decode(html: bytes, charset: str | None) -> str | bytes:
    if charset:
        try:
            return html.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name: let trafilatura detect it
            pass
    return html


def _extract(html: str | bytes, url: str) -> dict[str, Any]:
    try:
        return html_fields(html, url) or {}
    except Exception as exc:  # trafilatura/lxml raise many kinds of errors on broken markup
        raise ExtractionError(f"cannot parse the HTML ({type(exc).__name__})") from None


def _body(text: str, title: str | None) -> str:
    """Paragraphs separated by blank lines, without a first line that repeats the title."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    if paragraphs and title and " ".join(paragraphs[0].split()) == " ".join(title.split()):
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs)


def _published(page_date: object, entry: FeedEntry | None) -> str | None:
    """The page's own date; the feed's date (with its time) when the page has none or the
    two agree on the day."""
    feed_date = entry.published if entry else None
    day = _one_line(page_date)
    if feed_date is not None and (day is None or day == feed_date.date().isoformat()):
        return feed_date.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return day


def _source(sitename: object, feed_title: str | None, url: str) -> str:
    """The outlet: the site's declared name, else the feed's title, else the host.

    trafilatura falls back to the host name when a page declares no site name; that is no
    name, so the feed's title comes first then.
    """
    host = host_of(url)
    bare = host.removeprefix("www.")
    name = _one_line(sitename)
    if name and name.lower() not in {host, bare, bare.split(":")[0]}:
        return name
    return feed_title or bare


def _capped_title(title: str | None, url: str) -> str | None:
    if title is not None and len(title) > MAX_TITLE_CHARS:
        logger.warning("%s: a title of %s characters cut", url, f"{len(title):,}")
        return cut_title(title)
    return title


def _capped_body(body: str, url: str) -> str:
    if len(body) > MAX_ARTICLE_CHARS:
        cut = cut_body(body)
        logger.warning(
            "%s: a body of %s characters cut to %s", url, f"{len(body):,}", f"{len(cut):,}"
        )
        return cut
    return body


def _one_line(value: object) -> str | None:
    """A label (title, outlet, author) on one line, without invisible format characters."""
    if value is None:
        return None
    text = " ".join(visible(str(value)).split())
    return text or None
