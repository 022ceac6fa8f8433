"""Comparing the coverage: what each article says about a topic, and which say nothing.

:func:`comparison_topic` recognises questions that ask for a comparison ("How do the reports
differ on Covid easing?", "Which outlets report the drone designs?") and returns their topic.
:func:`compare_coverage` then decides, article by article, whether it addresses the topic, by
meaning, with the scoring that answers questions: each article's best candidates by the ranker
are read by the reader and fused (:mod:`index.rank.fusion`); an article addresses the topic
when its best fused score clears the answer threshold, or the reader reads one of them as
answering (its logit at the fusion's reader floor), or the ranker's best clears the decline
threshold (all a comparison had without a reader: bare topics such as "the rate rise" read
poorly, as the reader was trained on questions). The answer quotes each story's best sentence
(a copy of a story sits under its original, as "also published by", never as a report of its
own), grouped by outlet, and lists as ``missing`` only the articles of the same stories that
do not address it, each with its closest sentence so the claim of silence can be checked.
Articles about other stories are never listed.

Two articles tell the same story when one is a copy of the other, or their mean sentence
vectors are at least :data:`SAME_STORY_COSINE` alike (measured on the seed and news corpora:
same-story pairs 0.67-0.96, different stories 0.01-0.19).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from index import wording
from index.config import IndexSettings
from index.rank.compose import Thresholds, copies_of, make_quote, quote_span
from index.rank.fusion import Reranker
from index.rank.retrieve import Pool
from index.store.snapshot import Snapshot
from index.types import Answer, Quote, SourceRef

__all__ = ["compare_coverage", "comparison_topic"]

SAME_STORY_COSINE = 0.5
READ_PER_ARTICLE = 2
"""Each article's best candidates by the ranker that the reader reads."""
MAX_ARTICLES = 12
"""At most this many articles (those with the best candidates) are read for one comparison."""

_REPORTS = (
    r"(?:the\s+)?(?:two\s+|different\s+|various\s+|other\s+|several\s+|news\s+)?"
    r"(?:reports?|articles?|outlets?|sources?|stories|story|coverage|papers?|newspapers?|media|"
    r"publications?|news\s+(?:outlets?|sites?|sources?))"
)
_ON = r"(?:\s+(?:on|about|over|in|regarding|concerning|when\s+it\s+comes\s+to|as\s+to))?"
_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"^(?:how|in\s+what\s+ways?|where|why)\s+(?:do|does|did)\s+{_REPORTS}\s+"
        rf"(?:differ|disagree|vary|compare|contrast|diverge){_ON}\s+(?P<topic>.+)$",
        rf"^(?:what(?:'s|\s+is|\s+are)\s+the\s+)?differences?\s+(?:between|among)\s+{_REPORTS}"
        rf"{_ON}\s+(?P<topic>.+)$",
        rf"^(?:which|what)\s+{_REPORTS}\s+(?:report(?:s|ed)?|say|says|said|mention(?:s|ed)?|"
        r"cover(?:s|ed)?|wr(?:ite|ote)\s+about|talk(?:s|ed)?\s+about|carr(?:y|ies|ied))"
        r"(?:\s+(?:that|about|on))?\s+(?P<topic>.+)$",
        rf"^(?:what|how)\s+(?:does|do|did)\s+(?:each|every|all(?:\s+the)?|both(?:\s+the)?)\s+"
        r"(?:of\s+the\s+)?(?:outlets?|sources?|articles?|reports?|papers?)\s+"
        rf"(?:say|report|write|cover){_ON}\s+(?P<topic>.+)$",
        rf"^do\s+{_REPORTS}\s+(?:agree|disagree){_ON}\s+(?P<topic>.+)$",
        rf"^compare\s+(?:the\s+)?(?:coverage|reports?|articles?|outlets?|sources?)(?:\s+of)?{_ON}\s+"
        r"(?P<topic>.+)$",
        rf"^compare\s+(?P<topic>.+?)\s+(?:across|between|among)\s+{_REPORTS}$",
    )
]


def comparison_topic(question: str) -> str | None:
    """The topic of a question that asks to compare the coverage, or None for any other."""
    text = " ".join(question.split()).strip(" ?!.")
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            topic = match.group("topic").strip(" ,:;")
            return topic or None
    return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one article addresses the topic: its best sentence and that sentence's score."""

    article: int
    row: int
    score: float
    addresses: bool


def compare_coverage(
    question: str,
    topic: str,
    snap: Snapshot,
    pool: Pool,
    settings: IndexSettings,
    thresholds: Thresholds,
    reranker: Reranker | None = None,
) -> Answer:
    """Each story's best quote about ``topic`` and the silent articles of the same stories
    (see the module docstring)."""
    verdicts = judge(snap, pool, thresholds, reranker)
    speaking = [v for v in verdicts if v.addresses]
    quotes = _story_quotes(snap, pool, settings, speaking)
    missing = tuple(_silent(snap, pool, speaking, verdicts))
    if not quotes:
        reason = wording.COMPARE_NONE.format(len(snap.articles), f"“{topic}”")
        return Answer(question, False, reason=reason, kind="comparison", resolved=topic)
    return Answer(question, True, quotes, kind="comparison", resolved=topic, missing=missing)


def judge(
    snap: Snapshot, pool: Pool, thresholds: Thresholds, reranker: Reranker | None
) -> list[Verdict]:
    """A verdict for every article with candidates, best first: its best sentence (by the
    fused score of its best few candidates, when a reader reads) and whether it clears the
    threshold."""
    ranker = pool.ranker_scores if pool.ranker_scores is not None else pool.scores
    by_article: dict[int, list[int]] = {}
    for i in np.argsort(-ranker, kind="stable").tolist():
        by_article.setdefault(int(snap.table.article[pool.rows[i]]), []).append(i)
    chosen = list(by_article.items())[:MAX_ARTICLES]
    if reranker is None:
        return [
            _verdict(snap, pool, a, ps[0], float(ranker[ps[0]]), thresholds.decline)
            for a, ps in chosen
        ]
    read = [p for _, ps in chosen for p in ps[:READ_PER_ARTICLE]]
    texts = [snap.text(int(pool.rows[p])) for p in read]
    logits = reranker.reader.score(pool.query.text, texts).astype(np.float64)
    fused = dict(zip(read, reranker.fusion.fuse(ranker[read], logits).tolist(), strict=True))
    logit = dict(zip(read, logits.tolist(), strict=True))
    verdicts = []
    for article, positions in chosen:
        best = max(positions[:READ_PER_ARTICLE], key=fused.__getitem__)
        verdict = _verdict(snap, pool, article, best, fused[best], thresholds.answer)
        read_best = max(positions[:READ_PER_ARTICLE], key=logit.__getitem__)
        if not verdict.addresses and logit[read_best] >= thresholds.read:
            verdict = Verdict(article, int(pool.rows[read_best]), fused[read_best], True)
        elif not verdict.addresses and float(ranker[positions[0]]) >= thresholds.decline:
            verdict = replace(verdict, addresses=True)  # as the ranker alone would judge
        verdicts.append(verdict)
    return sorted(verdicts, key=lambda v: -v.score)


def _verdict(
    snap: Snapshot, pool: Pool, article: int, position: int, score: float, threshold: float
) -> Verdict:
    return Verdict(article, int(pool.rows[position]), score, score >= threshold)


def _story_quotes(
    snap: Snapshot, pool: Pool, settings: IndexSettings, speaking: Sequence[Verdict]
) -> tuple[Quote, ...]:
    """The best quote of each story that addresses the topic, grouped by outlet; the other
    copies of a story sit under its quote."""
    first: dict[str, Verdict] = {}
    for v in speaking:
        first.setdefault(snap.syndication.original(snap.articles[v.article].id), v)
    quotes = []
    for v in first.values():
        lo, hi = quote_span(snap, v.row, pool.query, settings)
        holding, without = copies_of(snap, lo, hi)
        quote = make_quote(snap, lo, hi, v.score, [], holding)
        quotes.append(replace(quote, published_without=tuple(without)))
    quotes.sort(key=lambda q: ((q.source or q.title).lower(), -q.score))
    return tuple(quotes)


def _silent(
    snap: Snapshot, pool: Pool, speaking: Sequence[Verdict], verdicts: Sequence[Verdict]
) -> list[SourceRef]:
    """The articles of the speaking stories that do not address the topic (copies aside),
    each with its closest sentence to the topic."""
    if not speaking:
        return []
    vectors = snap.article_vectors
    voices = {v.article for v in speaking}
    stories = {snap.syndication.original(snap.articles[a].id) for a in voices}
    closest = {v.article: v.row for v in verdicts}
    out = []
    for n, article in enumerate(snap.articles):
        if n in voices or snap.syndication.original(article.id) in stories:
            continue
        if max(float(vectors[n] @ vectors[a]) for a in voices) < SAME_STORY_COSINE:
            continue
        row = closest.get(n)
        if row is None:
            row = _closest_row(snap, n, pool.query.vector)
        out.append(_sentence_ref(snap, n, row))
    return out


def _closest_row(snap: Snapshot, article: int, vector: npt.NDArray[np.float32]) -> int:
    rows = np.flatnonzero(snap.table.article == article)
    return int(rows[int(np.argmax(np.asarray(snap.vectors[rows]) @ vector))])


def _sentence_ref(snap: Snapshot, article: int, row: int) -> SourceRef:
    a, table = snap.articles[article], snap.table
    return SourceRef(
        a.id,
        a.title,
        a.url,
        a.published,
        a.source,
        text=snap.text(row),
        paragraph=int(table.paragraph[row]),
        start=int(table.start[row]),
        end=int(table.end[row]),
    )
