"""Comparing the coverage: what each article says about a topic, and which say nothing.

:func:`comparison_topic` recognises questions that ask for a comparison ("How do the reports
differ on Covid easing?", "Which outlets report the drone designs?") and returns their topic;
:func:`compare_coverage` turns the scored candidates for the topic into the best quote of each
article that addresses it (a candidate above the answer threshold), grouped by outlet, and the
list of articles that do not.
"""

from __future__ import annotations

import re

from index import wording
from index.config import IndexSettings
from index.rank.compose import make_quote, quote_span
from index.rank.retrieve import Pool
from index.store.snapshot import Snapshot
from index.types import Answer, Quote, SourceRef

__all__ = ["compare_coverage", "comparison_topic"]

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


def compare_coverage(
    question: str,
    topic: str,
    snap: Snapshot,
    pool: Pool,
    settings: IndexSettings,
    threshold: float,
) -> Answer:
    """The best quote of every article whose best candidate clears ``threshold``, grouped by
    outlet (best first within each), and the other articles as ``missing``."""
    best: dict[int, tuple[float, int]] = {}
    for row, score in zip(pool.rows.tolist(), pool.scores.tolist(), strict=True):
        article = int(snap.table.article[row])
        if score >= threshold and (article not in best or score > best[article][0]):
            best[article] = (float(score), row)
    quotes: list[Quote] = []
    for _, (score, row) in sorted(best.items(), key=lambda kv: -kv[1][0]):
        lo, hi = quote_span(snap, row, pool.query, settings)
        quotes.append(make_quote(snap, lo, hi, score, []))
    quotes.sort(key=lambda q: (q.source is None, (q.source or "").lower(), -q.score))
    missing = tuple(
        SourceRef(a.id, a.title, a.url, a.published, a.source)
        for n, a in enumerate(snap.articles)
        if n not in best
    )
    if not quotes:
        reason = wording.COMPARE_NONE.format(len(snap.articles), f"“{topic}”")
        return Answer(
            question, False, reason=reason, kind="comparison", resolved=topic, missing=missing
        )
    return Answer(question, True, tuple(quotes), kind="comparison", resolved=topic, missing=missing)
