"""Which sentences make up a quote: one sentence, or a few adjacent ones when it cannot stand
alone. The quote is always one contiguous slice of the article body.

A sentence does not stand alone when it leans on the one before it ("He said ...", "However,
...", "This ...") or leads into the one after it ("... is the following:"), and, for a given
question, when the question's words are split between it and a neighbour (the neighbour holds
a large share of what the question asks about that the sentence itself lacks).
"""

from __future__ import annotations

from index.rank.cohesion import cohesive_rows
from index.rank.features import Query
from index.store.snapshot import Snapshot

MAX_QUOTE_CHARS = 700
SPLIT_GAIN = 0.34
"""A neighbour joins the quote when it adds this share of the question's (idf) weight."""


def quote_rows(snap: Snapshot, row: int, query: Query | None = None) -> tuple[int, int]:
    """The first and last row to quote for the candidate sentence ``row``."""
    para_lo, para_hi = int(snap.para_lo[row]), int(snap.para_hi[row])
    lo, hi = cohesive_rows(snap, row)
    if query is not None and lo == hi == row and len(query.token_ids):
        lo, hi = _split_question(snap, row, query, para_lo, para_hi)
    for first, last in ((lo, hi), (lo, row), (row, row)):
        if int(snap.table.end[last]) - int(snap.table.start[first]) <= MAX_QUOTE_CHARS:
            return first, last
    return row, row


def _split_question(
    snap: Snapshot, row: int, query: Query, para_lo: int, para_hi: int
) -> tuple[int, int]:
    weights = dict(zip(query.token_ids.tolist(), query.weights.tolist(), strict=True))
    total = sum(weights.values()) + query.unknown_weight
    if total <= 0:
        return row, row
    own = set(snap.tokens(row).tolist()) & weights.keys()
    best_gain, best = 0.0, (row, row)
    for other, span in ((row - 1, (row - 1, row)), (row + 1, (row, row + 1))):
        if not para_lo <= other < para_hi:
            continue
        extra = (set(snap.tokens(other).tolist()) & weights.keys()) - own
        gain = sum(weights[t] for t in extra) / total
        if gain > best_gain:
            best_gain, best = gain, span
    return best if best_gain >= SPLIT_GAIN else (row, row)


__all__ = ["quote_rows"]
