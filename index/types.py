"""Core data objects and errors shared by every part of the project.

Everything else depends on this module; it depends on nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import quote as url_quote


class NewsQuoteError(Exception):
    """Base class for the errors this project raises on purpose."""


class CorpusError(NewsQuoteError):
    """The corpus folder is missing or holds no usable article."""


class ArticleError(NewsQuoteError):
    """One article file cannot be loaded; the message says why."""


class IndexNotFoundError(NewsQuoteError):
    """There is no index at the given place, or it cannot be read."""


class DamagedIndexError(IndexNotFoundError):
    """An index version's files are damaged (truncated, changed, missing), or ``CURRENT`` is.

    A plain build repairs it: the damaged version is never taken for up to date.
    """


class StorageError(IndexNotFoundError):
    """The index folder cannot be used as it stands: read-only, or its disk is full.

    The index itself may be intact: rebuilding does not help, making room or access does.
    """


class SearchUnavailableError(NewsQuoteError):
    """The search backend (e.g. a Chroma server) does not answer right now."""


class SettingsError(NewsQuoteError):
    """A setting names something that is not there (an embedding model, say)."""


@dataclass(frozen=True, slots=True)
class Article:
    """One news article: its body is the text every quote is sliced from."""

    id: str
    title: str
    body: str
    url: str | None = None
    published: str | None = None
    source: str | None = None
    author: str | None = None
    path: str | None = None

    @property
    def content_hash(self) -> str:
        """A hash of everything that ends up in the index (not the file path)."""
        payload = {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "published": self.published,
            "source": self.source,
            "author": self.author,
        }
        data = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(data).hexdigest()

    def metadata(self) -> dict[str, str]:
        """Article fields for storage, without empty values."""
        fields = {
            "title": self.title,
            "url": self.url,
            "published": self.published,
            "source": self.source,
            "author": self.author,
        }
        return {k: v for k, v in fields.items() if v}


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def published_day(published: str | None) -> str:
    """The ISO day of a ``published`` value, or "" when unknown or not a date (a sort key)."""
    return published[:10] if published and _ISO_DAY.match(published) else ""


def newest_first(articles: Sequence[Article]) -> list[Article]:
    """``articles`` by publication day, newest first; undated ones last, in their order. The
    numbering of /sources and ``/article N``."""
    dated = [a for a in articles if published_day(a.published)]
    dated.sort(key=lambda a: published_day(a.published), reverse=True)  # stable within a day
    return dated + [a for a in articles if not published_day(a.published)]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of an article with its exact place: ``body[start:end] == text``."""

    article_id: str
    paragraph: int
    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A reference to an article: one that also reported a quote's fact, or a copy of the
    quoted article published by another outlet. As corroboration ("also reported by") it
    carries the article's own sentence that says the same thing: ``text == body[start:end]``."""

    article_id: str
    title: str
    url: str | None = None
    published: str | None = None
    source: str | None = None
    text: str | None = None
    paragraph: int | None = None
    start: int | None = None
    end: int | None = None
    author: str | None = None
    """The article's byline, when it has one."""

    @property
    def link(self) -> str | None:
        """The article URL, with a text fragment pointing at the sentence when there is one."""
        return text_fragment_url(self.url, self.text) if self.text else self.url

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "published": self.published,
            "url": self.url,
            "author": self.author,
        }
        if self.text is not None:
            row.update(text=self.text, paragraph=self.paragraph, start=self.start, end=self.end)
        return row


def text_fragment_url(url: str | None, text: str) -> str | None:
    """A link to ``url`` that scrolls to and highlights ``text`` (a ``#:~:text=`` fragment)."""
    if not url:
        return None
    words = text.split()
    if not words:
        return url
    safe = "-_.!~*'()"
    if len(words) > 8:
        directive = (
            url_quote(" ".join(words[:4]), safe=safe)
            + ","
            + url_quote(" ".join(words[-4:]), safe=safe)
        )
    else:
        directive = url_quote(" ".join(words), safe=safe)
    base = url.split("#", 1)[0]
    return f"{base}#:~:text={directive}"


@dataclass(frozen=True, slots=True)
class Quote:
    """A verbatim extract: ``text == article.body[start:end]``."""

    text: str
    article_id: str
    title: str
    paragraph: int
    start: int
    end: int
    score: float
    url: str | None = None
    published: str | None = None
    source: str | None = None
    also_in: tuple[SourceRef, ...] = ()
    """Independent articles that report the same ("also reported by")."""
    also_published: tuple[SourceRef, ...] = ()
    """Copies of the quoted article in other outlets that hold the quoted passage: wire copy,
    reprints ("also published by"); the quote is from the earliest copy."""
    published_without: tuple[SourceRef, ...] = ()
    """Copies of the quoted article that ran the story without this passage (an edited
    reprint that cut it): never credited with it."""
    author: str | None = None
    """The article's byline, when it has one."""
    speaker: str | None = None
    """Who the quote reports, when it names them ("Shoigu", "KCNA", "analysts"; see
    :mod:`index.rank.speakers`); None when it reports nobody's words or does not say whose."""
    said: str | None = None
    """The words that attribute it, as written: "said", "reported", "according to"."""

    @property
    def link(self) -> str | None:
        """The article URL with a text fragment pointing at this quote, if the article has a URL."""
        return text_fragment_url(self.url, self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "article_id": self.article_id,
            "title": self.title,
            "url": self.url,
            "published": self.published,
            "source": self.source,
            "author": self.author,
            "paragraph": self.paragraph,
            "start": self.start,
            "end": self.end,
            "score": round(float(self.score), 4),
            "speaker": self.speaker,
            "also_in": [ref.to_dict() for ref in self.also_in],
            "also_published": [ref.to_dict() for ref in self.also_published],
            "published_without": [ref.to_dict() for ref in self.published_without],
        }


@dataclass(frozen=True, slots=True)
class Figure:
    """The figure an article gives for what a question counts ("19" deaths), and where."""

    value: str
    article_id: str
    title: str
    source: str | None = None
    published: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "published": self.published,
        }


AnswerKind = Literal[
    "answer",
    "partial",
    "comparison",
    "refusal",
    "greeting",
    "thanks",
    "goodbye",
    "help",
    "empty",
    "unavailable",
    "language",
    "clarify",
]
"""``partial``: no quote answers the question, or none holds the kind of fact it asks for (a
date, a figure, a name); ``reason`` says so plainly and the quotes are the closest the coverage
comes. ``language``: the question is not in English (``reason`` names the language).
``clarify``: a follow-up could mean several of the last answer's people or places and could not
be read safely; ``reason`` asks which is meant and names them."""


SEARCHED: tuple[AnswerKind, ...] = ("answer", "partial", "refusal")
"""The kinds of answer that searched the index (the others are small talk or errors)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the bot says to a question: quotes, or a reason why there are none."""

    question: str
    answered: bool
    quotes: tuple[Quote, ...] = ()
    reason: str | None = None
    kind: AnswerKind = "answer"
    resolved: str | None = None
    """A follow-up question as it was read ("What did Shoigu give Kim Jong Un?" for "And what
    did he give him?"); None when the question was answered as asked."""
    missing: tuple[SourceRef, ...] = ()
    """For a comparison: the articles that do not address the topic."""
    figures: tuple[Figure, ...] = ()
    """When articles give different figures for what the question counts (a toll that rose
    over three days): each article's figure, newest first. Empty when they agree."""
    timings: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.answered and not self.quotes:
            raise ValueError("an answered Answer needs at least one quote")
        if not self.answered and self.quotes:
            raise ValueError("an Answer that is not answered carries no quotes")
        if not self.answered and not self.reason:
            raise ValueError("an Answer that is not answered needs a reason")

    @property
    def sources(self) -> list[SourceRef]:
        """Every article cited by the quotes, in order of first mention, without repeats."""
        seen: dict[str, SourceRef] = {}
        for quote in self.quotes:
            own = SourceRef(quote.article_id, quote.title, quote.url, quote.published, quote.source)
            refs = (
                replace(own, author=quote.author),
                *quote.also_published,
                *quote.also_in,
            )
            for ref in refs:
                seen.setdefault(ref.article_id, ref)
        return list(seen.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the README documents ("The answer format")."""
        row: dict[str, Any] = {
            "question": self.question,
            "answered": self.answered,
            "reason": self.reason,
            "kind": self.kind,
            "quotes": [q.to_dict() for q in self.quotes],
        }
        if self.resolved is not None:
            row["resolved"] = self.resolved
        if self.kind == "comparison":
            row["missing"] = [ref.to_dict() for ref in self.missing]
        if self.figures:
            row["figures"] = [f.to_dict() for f in self.figures]
        return row


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What /about shows: the size and origin of the index being served."""

    build_id: str
    built_at: str
    model: str
    dimension: int
    articles: int
    sentences: int
    backend: str
