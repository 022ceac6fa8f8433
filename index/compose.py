"""From a scored pool of candidates to the answer: verbatim quotes with corroboration, or a refusal.

:func:`compose`, for one question:

1. below the confidence threshold, the answer is an honest refusal (:func:`refusal`: "the
   coverage doesn't say", and what the coverage is about);
2. otherwise the best candidate is quoted, with the sentence before or after it when it does
   not stand alone (:func:`quote_span`, see :mod:`index.extract`);
3. further quotes follow, best first, up to ``max_quotes`` in all, while they score at least
   ``further_quote_ratio`` of the best, add at least two new words and are not near-duplicates
   of a quote already taken;
4. when the question asks for a kind of fact (a date, a figure, a person: see
   :func:`index.entities.wanted`) and no quote names one, the answer is ``partial``: it says
   plainly that the coverage gives none, then gives the closest quotes;
5. each quote carries ``also_in``: the other articles with a sentence that reports the same
   (:meth:`_Selection.corroboration`).

Every quote is ``article.body[start:end]``: nothing is ever stitched, trimmed or reworded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from index import wording
from index.config import IndexSettings
from index.entities import new_entity_kinds
from index.extract import quote_rows
from index.features import Query
from index.retrieve import Pool
from index.snapshot import Snapshot
from index.types import Answer, Quote, SourceRef


def compose(
    question: str, snap: Snapshot, pool: Pool, settings: IndexSettings, threshold: float
) -> Answer:
    """Turn scored candidates into quotes with corroboration, or a refusal."""
    order = np.argsort(-pool.scores, kind="stable")
    if len(order) == 0 or float(pool.scores[order[0]]) < threshold:
        return refusal(question, snap)
    floor = max(threshold, settings.further_quote_ratio * float(pool.scores[order[0]]))
    selection = _Selection(snap, pool, settings)
    quotes: list[Quote] = []
    for idx in order.tolist():
        if len(quotes) >= settings.max_quotes:
            break
        score = float(pool.scores[idx])
        if quotes and score < floor:
            break
        quote = selection.take(int(pool.rows[idx]), score, first=not quotes)
        if quote is not None:
            quotes.append(quote)
    asked = pool.query.wanted
    if (
        settings.partial_answers
        and asked is not None
        and asked.accepts
        and not any(holds_kind(snap, lo, hi, pool.query) for lo, hi in selection.spans)
    ):
        reason = wording.partial_reason(asked.kind, question)
        return Answer(question, answered=True, quotes=tuple(quotes), reason=reason, kind="partial")
    return Answer(question=question, answered=True, quotes=tuple(quotes), kind="answer")


def holds_kind(snap: Snapshot, lo: int, hi: int, query: Query) -> bool:
    """Whether rows ``lo``..``hi`` name an entity of the kind the question asks for, one the
    question does not name itself ("When ...?": a date; "Who ...?": a person)."""
    asked = query.wanted
    if asked is None:
        return True
    for row in range(lo, hi + 1):
        kinds = new_entity_kinds(snap.text(row), snap.sentence_entities(row), query.stems)
        if kinds & asked.accepts:
            return True
    return False


def quote_span(
    snap: Snapshot, row: int, query: Query | None, settings: IndexSettings
) -> tuple[int, int]:
    """The rows to quote for candidate ``row`` (see :func:`index.extract.quote_rows`)."""
    return quote_rows(snap, row, query if settings.join_split_sentences else None)


@dataclass
class _Selection:
    """The quotes of one answer as they are chosen, and what they already cover."""

    snap: Snapshot
    pool: Pool
    settings: IndexSettings
    covered: set[int] = field(default_factory=set)  # rows quoted, or cited in ``also_in``
    spans: list[tuple[int, int]] = field(default_factory=list)  # the rows of each quote taken
    seen_words: set[int] = field(default_factory=set)  # BM25 ids the question and quotes used
    vectors: npt.NDArray[np.float32] = field(init=False)  # aligned with ``pool.rows``
    position: dict[int, int] = field(init=False)  # row -> its index in ``pool.rows``

    def __post_init__(self) -> None:
        self.seen_words = set(self.pool.query.token_ids.tolist())
        self.vectors = np.asarray(self.snap.vectors[self.pool.rows], dtype=np.float32)
        self.position = {int(r): i for i, r in enumerate(self.pool.rows.tolist())}

    def take(self, row: int, score: float, *, first: bool) -> Quote | None:
        """The quote for candidate ``row``, or None when it would repeat what is taken."""
        if row in self.covered:
            return None
        lo, hi = quote_span(self.snap, row, self.pool.query, self.settings)
        if any(r in self.covered for r in range(lo, hi + 1)):
            lo = hi = row  # quote just the sentence rather than repeat a neighbour
        text_words = set(self.snap.tokens(row).tolist())
        if not first and len(text_words - self.seen_words) < 2:
            return None  # adds nothing new
        if not first and self.near_duplicate(row):
            return None
        also = self.corroboration(row)
        self.covered.update(range(lo, hi + 1))
        self.covered.update(r for r, _ in also)
        self.seen_words |= text_words
        self.spans.append((lo, hi))
        return make_quote(self.snap, lo, hi, score, [ref for _, ref in also])

    def near_duplicate(self, row: int) -> bool:
        """Whether ``row`` says what a row already covered says (by cosine)."""
        own = self.vectors[self.position[row]]
        for other in self.covered:
            if other in self.position and float(own @ self.vectors[self.position[other]]) >= (
                self.settings.corroboration_min_cosine
            ):
                return True
        return False

    def corroboration(self, row: int) -> list[tuple[int, SourceRef]]:
        """The best sentence of each other article that reports what ``row`` says."""
        snap, settings = self.snap, self.settings
        article = int(snap.table.article[row])
        own_words = set(snap.tokens(row).tolist())
        sims = self.vectors @ self.vectors[self.position[row]]
        best: dict[int, tuple[float, int]] = {}
        for i, other in enumerate(self.pool.rows.tolist()):
            other_article = int(snap.table.article[other])
            if other_article == article or other in self.covered:
                continue
            sim = float(sims[i])
            if sim < settings.corroboration_min_cosine:
                other_words = set(snap.tokens(other).tolist())
                smaller = min(len(own_words), len(other_words))
                overlap = len(own_words & other_words) / smaller if smaller else 0.0
                if overlap < settings.corroboration_min_overlap or sim < (
                    settings.corroboration_floor_cosine
                ):
                    continue
            if other_article not in best or sim > best[other_article][0]:
                best[other_article] = (sim, other)
        refs = []
        for other_article, (_, other) in sorted(best.items(), key=lambda kv: -kv[1][0]):
            a = snap.articles[other_article]
            refs.append((other, SourceRef(a.id, a.title, a.url, a.published, a.source)))
        return refs


def make_quote(snap: Snapshot, lo: int, hi: int, score: float, also: list[SourceRef]) -> Quote:
    """The quote of rows ``lo``..``hi``: one exact slice of their article's body."""
    article = snap.articles[int(snap.table.article[lo])]
    start, end = int(snap.table.start[lo]), int(snap.table.end[hi])
    return Quote(
        text=article.body[start:end],
        article_id=article.id,
        title=article.title,
        paragraph=int(snap.table.paragraph[hi]),
        start=start,
        end=end,
        score=score,
        url=article.url,
        published=article.published,
        source=article.source,
        also_in=tuple(also),
    )


def refusal(question: str, snap: Snapshot) -> Answer:
    """The honest "not in the coverage" answer, saying what the coverage is about."""
    titles = [a.title for a in snap.articles[:3]]
    reason = wording.refusal_reason(len(snap.articles), titles)
    return Answer(question=question, answered=False, reason=reason, kind="refusal")
