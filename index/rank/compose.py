"""From a scored pool of candidates to the answer: verbatim quotes with corroboration, or a refusal.

:func:`compose`, for one question:

1. when even the ranker's best candidate is below the decline threshold, the question is not
   about the coverage: an honest refusal (:func:`refusal`: "the coverage doesn't say", and
   what the coverage is about); when the question is about the coverage but no sentence
   answers it (the best fused score below the answer threshold), the answer is ``partial``:
   it says so and gives the closest quotes;
2. otherwise the best candidate is quoted, with the sentence before or after it when it does
   not stand alone (:func:`quote_span`, see :mod:`index.rank.quoting`);
3. further quotes follow, best first, up to ``max_quotes`` in all, while they score at least
   ``further_quote_ratio`` of the best, add at least two new words and are not near-duplicates
   of a quote already taken; a sentence of another outlet that gives a different figure for
   the same thing (:func:`index.rank.recency.figures_differ`) is a disagreement and is quoted too;
4. each quote carries ``also_in``: the other stories with a sentence of their own that
   reports the same and answers the question too (:meth:`_Selection.corroboration`), that
   sentence included so a reader can check it;
5. syndicated copies (:mod:`index.store.syndication`: wire copy, reprints) are not corroboration:
   the quote comes from the earliest copy, and the others are ``also_published``;
6. a question asking for the latest ("latest", "now", "still", "so far") takes its first quote
   from the newest article among the candidates scoring at least :data:`RECENCY_MARGIN` of
   the best.
7. when the question asks for a kind of fact (a date, a figure, a person: see
   :func:`index.dialogue.asks.asked`) and no quote names one, the answer is ``partial``: it says
   plainly that the coverage gives none, then gives the closest quotes.

A follow-up question (a :class:`~index.dialogue.conversation.Followup` that leans on the last turn)
prefers the last answer's article among candidates nearly as good, never repeats the last quote
when it asks for something else ("who else?"), and looks after the last quote when it asks
what came next.

Every quote is ``article.body[start:end]``: nothing is ever stitched, trimmed or reworded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from index import wording
from index.config import IndexSettings
from index.dialogue.conversation import Followup, QuotePlace
from index.rank.features import Query, written
from index.rank.quoting import quote_rows
from index.rank.recency import figure_for, figures_differ, newest_candidates
from index.rank.retrieve import Pool
from index.store.entities import new_entity_kinds
from index.store.snapshot import Snapshot
from index.types import Answer, Figure, Quote, SourceRef

PREFER_MARGIN = 0.05
"""A follow-up's candidate in the last answer's article goes first when it scores within this
much of a better one elsewhere: the question alone does not decide between them."""
NEXT_ROWS = 3
"""For "what next?", the sentences after the last quote that are looked at first."""
NEXT_BONUS = 0.2
TIE = 1e-6  # cosines closer than this are equal (the same sentence in two copies)
RECENCY_MARGIN = 0.5
"""For a question asking for the latest, candidates scoring at least this share of the best
(fused, or the ranker's) may give the first quote, the newest article first."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where an answer turns into a hedge, and a hedge into a refusal."""

    decline: float
    """Below this the ranker's best candidate: the question is not about the coverage."""
    answer: float
    """Below this the best (fused) score: no sentence answers it; the closest are given as a
    ``partial`` answer that says so. Equal to ``decline`` without a reader."""
    read: float = float("inf")
    """A reader logit at which a sentence answers: the question is about the coverage even
    below ``decline`` (the fusion's ``reader_floor``; never without a reader)."""


def compose(
    question: str,
    snap: Snapshot,
    pool: Pool,
    settings: IndexSettings,
    thresholds: Thresholds,
    followup: Followup | None = None,
) -> Answer:
    """Turn scored candidates into quotes with corroboration, a hedge or a refusal."""
    if not about_the_coverage(pool, thresholds):
        return refusal(question, snap)
    order = [i for i in ranking(snap, pool, followup).tolist() if pool.scores[i] > 0] or []
    if not order:
        return refusal(question, snap)
    best = max(float(pool.scores[i]) for i in order)
    sure = best >= thresholds.answer
    if pool.query.asked.latest:
        order = newest_candidates_first(snap, pool, order, RECENCY_MARGIN)
    floor = settings.further_quote_ratio * best  # further quotes support the first
    selection = _Selection(snap, pool, settings, thresholds.answer, question)
    quotes = selection.quotes(order, floor)
    figures = selection.differing_figures(order, floor)
    reason = None  # the plainer of the two reasons first: no quote holds the asked kind
    if not selection.holds_asked_kind():
        reason = wording.partial_reason(pool.query.asked.kind or "", question)
    elif not sure:
        reason = wording.partial_unanswered(question)
    if reason is not None and settings.partial_answers:
        return Answer(question, True, quotes, reason=reason, kind="partial", figures=figures)
    return Answer(question, True, quotes, kind="answer", figures=figures)


def about_the_coverage(pool: Pool, thresholds: Thresholds) -> bool:
    """Whether the question is about the coverage at all (else: a refusal): the ranker's best
    candidate clears the decline threshold, or the reader found a sentence that answers it
    (a fused score at the answer threshold: "What is Shoigu's job?" shares few words with
    "Russia's defence chief, Sergei Shoigu", but the reader reads that it answers)."""
    if not len(pool.scores):
        return False
    if pool.ranker_scores is None:
        return float(pool.scores.max()) >= thresholds.decline
    read = pool.reader[~np.isnan(pool.reader)] if pool.reader is not None else np.zeros(0)
    return (
        float(pool.ranker_scores.max()) >= thresholds.decline
        or float(pool.scores.max()) >= thresholds.answer
        or (len(read) > 0 and float(read.max()) >= thresholds.read)
    )


def holds_kind(snap: Snapshot, lo: int, hi: int, query: Query) -> bool:
    """Whether rows ``lo``..``hi`` name an entity of the kind the question asks for, one the
    question does not name itself ("When ...?": a date; "Who ...?": a person)."""
    asked = query.asked
    if not asked.accepts:
        return True
    for row in range(lo, hi + 1):
        kinds = new_entity_kinds(snap.text(row), snap.sentence_entities(row), query.stems)
        if kinds & asked.accepts:
            return True
    return False


def ranking(snap: Snapshot, pool: Pool, followup: Followup | None = None) -> npt.NDArray[np.int64]:
    """Positions in ``pool`` in the order to quote them: by score, a follow-up's preferences
    applied (the last answer's article first among near ties; not the last quote again when
    something else is asked for; what follows the last quote when the next thing is)."""
    key = pool.scores.astype(np.float64).copy()
    if followup is not None and followup.leans:
        if followup.prefer is not None:
            key += PREFER_MARGIN * _in_article(snap, pool, followup.prefer)
        if followup.after is not None:
            key += NEXT_BONUS * _following(snap, pool, followup.after)
        if followup.avoid is not None:
            key[_overlapping(snap, pool, followup.avoid)] = -np.inf
    order = np.argsort(-key, kind="stable")
    return order[np.isfinite(key[order])]


def _article_index(snap: Snapshot, place: QuotePlace) -> int:
    return snap.article_rows.get(place.article_id, -1)


def _in_article(snap: Snapshot, pool: Pool, place: QuotePlace) -> npt.NDArray[np.bool_]:
    return np.asarray(snap.table.article[pool.rows] == _article_index(snap, place))


def _overlapping(snap: Snapshot, pool: Pool, place: QuotePlace) -> npt.NDArray[np.bool_]:
    """Candidates that are (part of) the quote at ``place``."""
    starts, ends = snap.table.start[pool.rows], snap.table.end[pool.rows]
    return _in_article(snap, pool, place) & (starts < place.end) & (ends > place.start)


def _following(snap: Snapshot, pool: Pool, place: QuotePlace) -> npt.NDArray[np.bool_]:
    """Candidates among the few sentences right after the quote at ``place``."""
    art = _article_index(snap, place)
    after = np.flatnonzero((snap.table.article == art) & (snap.table.start >= place.end))
    return np.isin(pool.rows, after[:NEXT_ROWS])


def newest_candidates_first(
    snap: Snapshot, pool: Pool, order: list[int], share: float
) -> list[int]:
    """``order`` with the candidates scoring at least ``share`` of the best put first, newest
    article first (undated ones after the dated, better score first within a day). Near the
    best by the fused score or by the ranker's: the reader reads "the latest death toll" as
    answered by "risen to 17" but not by "Nineteen people have now died"."""
    near = _near_best(pool.scores, order, share)
    if pool.ranker_scores is not None:
        near |= _near_best(pool.ranker_scores, order, share)
    top = [i for i in order if i in near]
    days = [snap.articles[int(snap.table.article[pool.rows[i]])].published for i in top]
    ranked = [top[j] for j in newest_candidates(days, [float(pool.scores[i]) for i in top])]
    chosen = set(top)
    return ranked + [i for i in order if i not in chosen]


def _near_best(scores: npt.NDArray[np.float64], order: list[int], share: float) -> set[int]:
    best = max((float(scores[i]) for i in order), default=0.0)
    return {i for i in order if float(scores[i]) >= share * best}


def quote_span(
    snap: Snapshot, row: int, query: Query | None, settings: IndexSettings
) -> tuple[int, int]:
    """The rows to quote for candidate ``row`` (see :func:`index.rank.quoting.quote_rows`)."""
    return quote_rows(snap, row, query if settings.join_split_sentences else None)


@dataclass
class _Selection:
    """The quotes of one answer as they are chosen, and what they already cover."""

    snap: Snapshot
    pool: Pool
    settings: IndexSettings
    threshold: float
    question: str
    covered: set[int] = field(default_factory=set)  # rows quoted, or cited in ``also_in``
    spans: list[tuple[int, int]] = field(default_factory=list)  # the rows of each quote taken
    seen_words: set[int] = field(default_factory=set)  # BM25 ids the question and quotes used
    quoted: list[tuple[int, int]] = field(default_factory=list)  # (article, row) of each quote
    vectors: npt.NDArray[np.float32] = field(init=False)  # aligned with ``pool.rows``
    position: dict[int, int] = field(init=False)  # row -> its index in ``pool.rows``

    def __post_init__(self) -> None:
        self.seen_words = set(self.pool.query.token_ids.tolist())
        self.vectors = np.asarray(self.snap.vectors[self.pool.rows], dtype=np.float32)
        self.position = {int(r): i for i, r in enumerate(self.pool.rows.tolist())}

    def quotes(self, order: Sequence[int], floor: float) -> tuple[Quote, ...]:
        """The best candidate's quote and up to ``max_quotes - 1`` more, in ``order``, each
        scoring at least ``floor`` and adding something the others do not say."""
        out: list[Quote] = []
        for idx in order:
            if len(out) >= self.settings.max_quotes:
                break
            score = float(self.pool.scores[idx])
            if out and score < floor:
                continue
            quote = self.take(int(self.pool.rows[idx]), score, first=not out)
            if quote is not None:
                out.append(quote)
        return tuple(out)

    def holds_asked_kind(self) -> bool:
        """Whether a quote names the kind of fact the question asks for (a date, a person),
        one the question does not name itself; True when it asks for no kind (or partial
        answers are off)."""
        query = self.pool.query
        if not self.settings.partial_answers or not query.asked.accepts:
            return True
        return any(holds_kind(self.snap, lo, hi, query) for lo, hi in self.spans)

    def differing_figures(self, order: Sequence[int], floor: float) -> tuple[Figure, ...]:
        """When the question counts something and the stories answering it give different
        figures: each story's figure (its best candidate that says the same as the first
        quote, at least ``floor``), newest first; () when they agree."""
        counted = self.pool.query.asked
        if counted.form != "number" or not self.quoted:
            return ()
        snap, top = self.snap, self.vector(self.quoted[0][1])
        found: dict[str, Figure] = {}
        for idx in order:
            row = int(self.pool.rows[idx])
            article = snap.articles[int(snap.table.article[row])]
            story = snap.syndication.original(article.id)
            if story in found or float(self.pool.scores[idx]) < floor:
                continue
            if float(self.vector(row) @ top) < self.settings.corroboration_floor_cosine:
                continue
            value = figure_for(snap.text(row), counted.counted)
            if value is not None:
                found[story] = Figure(
                    value, article.id, article.title, article.source, article.published
                )
        if len({f.value for f in found.values()}) < 2:
            return ()
        return tuple(newest_first_figures(list(found.values())))

    def take(self, row: int, score: float, *, first: bool) -> Quote | None:
        """The quote for candidate ``row``, or None when it would repeat what is taken."""
        row = self.earliest_copy(row)
        if row in self.covered:
            return None
        lo, hi = quote_span(self.snap, row, self.pool.query, self.settings)
        if any(r in self.covered for r in range(lo, hi + 1)):
            lo = hi = row  # quote just the sentence rather than repeat a neighbour
        text_words = set(self.snap.tokens(row).tolist())
        if not first and not self.disagrees(row):
            if len(text_words - self.seen_words) < 2:
                return None  # adds nothing new
            if self.near_duplicate(row):
                return None
        also = self.corroboration(row, score)
        self.covered.update(range(lo, hi + 1))
        self.covered.update(r for r, _ in also)
        self.seen_words |= text_words
        self.spans.append((lo, hi))
        self.quoted.append((int(self.snap.table.article[row]), row))
        copies, without = copies_of(self.snap, lo, hi)
        quote = make_quote(self.snap, lo, hi, score, [ref for _, ref in also], copies)
        return replace(quote, published_without=tuple(without))

    def vector(self, row: int) -> npt.NDArray[np.float32]:
        """The vector of sentence ``row`` (a candidate's, or read from the version)."""
        at = self.position.get(row)
        if at is not None:
            return self.vectors[at]
        return np.asarray(self.snap.vectors[row], dtype=np.float32)

    def earliest_copy(self, row: int) -> int:
        """The same sentence in the earliest copy of ``row``'s story, when its article is a
        later copy that kept the sentence word for word; else ``row``."""
        snap = self.snap
        article = snap.articles[int(snap.table.article[row])]
        original = snap.syndication.original(article.id)
        entry = snap.manifest.articles.get(original)
        if original == article.id or entry is None:
            return row
        text = snap.text(row)
        for candidate in range(*entry.rows):
            if snap.text(candidate) == text:
                return candidate
        return row

    def disagrees(self, row: int) -> bool:
        """Whether ``row`` gives other figures than a quote of another article about the same
        thing (two outlets disagree: both are quoted, with their dates)."""
        article = int(self.snap.table.article[row])
        text = self.snap.text(row)
        own = self.vector(row)
        for quoted_article, quoted_row in self.quoted:
            if quoted_article == article:
                continue
            same_topic = float(own @ self.vector(quoted_row)) >= (
                self.settings.corroboration_floor_cosine
            )
            if same_topic and figures_differ(text, self.snap.text(quoted_row)):
                return True
        return False

    def near_duplicate(self, row: int) -> bool:
        """Whether ``row`` says what a row already covered says (by cosine)."""
        own = self.vector(row)
        for other in self.covered:
            if other in self.position and float(own @ self.vectors[self.position[other]]) >= (
                self.settings.corroboration_min_cosine
            ):
                return True
        return False

    def corroboration(self, row: int, score: float) -> list[tuple[int, SourceRef]]:
        """The best sentence of each other story that reports what ``row`` says.

        A sentence counts when it is close to ``row`` (cosine, or shared words and a lower
        cosine), when it answers the question itself nearly as well as a further quote must
        (its own score at least ``further_quote_ratio`` of the quote's, or the answer
        threshold), and, when the question asks for a date, number or name, when it holds one
        the quote gives: an article is never credited with a fact it does not state. Copies of
        ``row``'s article are not corroboration (they are "also published"), a sentence with
        other figures contradicts rather than corroborates, and of several copies of another
        story only the best sentence counts.
        """
        snap, settings = self.snap, self.settings
        article = int(snap.table.article[row])
        story = snap.syndication.original(snap.articles[article].id)
        text = snap.text(row)
        own_words = set(snap.tokens(row).tolist())
        sims = self.vectors @ self.vector(row)
        floor = min(self.threshold, settings.further_quote_ratio * score)
        best: dict[str, tuple[float, int]] = {}  # story (its earliest copy) -> (cosine, row)
        for i, other in enumerate(self.pool.rows.tolist()):
            other_article = int(snap.table.article[other])
            other_story = snap.syndication.original(snap.articles[other_article].id)
            if other_article == article or other_story == story or other in self.covered:
                continue
            if figures_differ(text, snap.text(other)):
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
            if float(self.pool.scores[i]) < floor or not self.states_answer(row, other):
                continue
            held = best.get(other_story)
            # A story is named by its earliest copy when that copy says it as well as any.
            is_original = snap.articles[other_article].id == other_story
            if held is None or sim > held[0] + TIE or (is_original and sim >= held[0] - TIE):
                best[other_story] = (sim, other)
        refs = []
        for _, (_, other) in sorted(best.items(), key=lambda kv: -kv[1][0]):
            refs.append((other, self.reference(int(snap.table.article[other]), other)))
        return refs

    def states_answer(self, row: int, other: int) -> bool:
        """When the question (as read: a follow-up's rewritten form) asks for a date, number or
        name: whether ``other`` holds one that ``row`` gives (and the question does not
        name)."""
        query = self.pool.query
        form = query.asked.form
        if form is None:
            return True
        given = {m for m in written(form, self.snap.text(row)) if not set(m) <= query.stems}
        return not given or bool(given & set(written(form, self.snap.text(other))))

    def reference(self, article_index: int, row: int) -> SourceRef:
        """An article and its sentence ``row``, verbatim, for the reader to check."""
        a, table = self.snap.articles[article_index], self.snap.table
        return SourceRef(
            a.id,
            a.title,
            a.url,
            a.published,
            a.source,
            text=self.snap.text(row),
            paragraph=int(table.paragraph[row]),
            start=int(table.start[row]),
            end=int(table.end[row]),
        )


def newest_first_figures(figures: list[Figure]) -> list[Figure]:
    """``figures`` by their article's day, newest first (undated last)."""
    days = [f.published for f in figures]
    return [figures[i] for i in newest_candidates(days, [0.0] * len(figures))]


def copies_of(snap: Snapshot, lo: int, hi: int) -> tuple[list[SourceRef], list[SourceRef]]:
    """The other copies of the article of rows ``lo``..``hi`` (earliest first), split into
    those that hold the passage ("also published by") and those that ran the story without it
    (an edited reprint that cut it is never credited with it). Whitespace does not count."""
    article = snap.articles[int(snap.table.article[lo])]
    passage = " ".join(snap.span_text(lo, hi).split())
    holding: list[SourceRef] = []
    without: list[SourceRef] = []
    for other in snap.syndication.copies(article.id):
        index = snap.article_rows.get(other)
        if index is not None:
            holds = passage in " ".join(snap.articles[index].body.split())
            (holding if holds else without).append(source_ref(snap, index))
    return holding, without


def source_ref(snap: Snapshot, index: int) -> SourceRef:
    """A reference to the article at ``index`` of the snapshot."""
    a = snap.articles[index]
    return SourceRef(a.id, a.title, a.url, a.published, a.source)


def make_quote(
    snap: Snapshot,
    lo: int,
    hi: int,
    score: float,
    also: list[SourceRef],
    copies: list[SourceRef] | None = None,
) -> Quote:
    """The quote of rows ``lo``..``hi``: one exact slice of their article's body."""
    article = snap.articles[int(snap.table.article[lo])]
    start, end = int(snap.table.start[lo]), int(snap.table.end[hi])
    return Quote(
        text=snap.span_text(lo, hi),
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
        also_published=tuple(copies or ()),
    )


def refusal(question: str, snap: Snapshot) -> Answer:
    """The honest "not in the coverage" answer, saying what the coverage is about."""
    titles = [a.title for a in snap.articles[:3]]
    reason = wording.refusal_reason(len(snap.articles), titles)
    return Answer(question=question, answered=False, reason=reason, kind="refusal")
