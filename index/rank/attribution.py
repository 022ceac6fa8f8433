"""Credits on an answer: each quote's speaker and each cited article's byline.

:func:`attributed` runs once on a composed answer (``QA`` calls it for answers and
comparisons): the quotes that name who they report get ``speaker`` and ``said`` (see
:mod:`index.rank.speakers`: only quotes with a reporting word are parsed, all in one call), and
every quote and article reference gets its article's ``author`` ("who wrote the story?" is
answered from the JSON as from the reply).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from index.rank.speakers import find_speakers
from index.types import Answer, Quote, SourceRef

Byline = Callable[[str], str | None]
"""An article id's byline (None when it has none, or the article is unknown)."""


def attributed(answer: Answer, byline: Byline) -> Answer:
    """``answer`` with speakers on its quotes and bylines on its quotes and references."""
    if not answer.quotes and not answer.missing:
        return answer
    found = find_speakers([quote.text for quote in answer.quotes])
    quotes = tuple(
        _credited(quote, byline, who.name if who else None, who.verb if who else None)
        for quote, who in zip(answer.quotes, found, strict=True)
    )
    missing = tuple(_signed(ref, byline) for ref in answer.missing)
    return replace(answer, quotes=quotes, missing=missing)  # the same timings


def _credited(quote: Quote, byline: Byline, speaker: str | None, said: str | None) -> Quote:
    return replace(
        quote,
        author=byline(quote.article_id),
        speaker=speaker,
        said=said,
        also_in=tuple(_signed(ref, byline) for ref in quote.also_in),
        also_published=tuple(_signed(ref, byline) for ref in quote.also_published),
    )


def _signed(ref: SourceRef, byline: Byline) -> SourceRef:
    author = byline(ref.article_id)
    return ref if author == ref.author else replace(ref, author=author)
