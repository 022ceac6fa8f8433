"""Sentences that do not stand alone: they lean on the sentence before or lead into the next.

"He said ...", "However, ...", "This ..." lean on the sentence before; "... is the following:"
leads into the one after. Used both to score a sentence with the sentence it leans on
(:mod:`index.rank.features`) and to quote the two together (:mod:`index.rank.quoting`).
"""

from __future__ import annotations

import re

from index.store.snapshot import Snapshot

# A sentence opening with one of these leans on the sentence before it.
DEPENDENT_OPENING = re.compile(
    r"^[\"“‘'(]*(?:he|she|it|they|this|these|that|those|his|her|its|their|there|such|both|"
    r"the\s+(?:latter|former)|however|but|yet|also|meanwhile|nonetheless|nevertheless|still|"
    r"instead|additionally|moreover|furthermore|in\s+addition|as\s+a\s+result|then|thus|"
    r"therefore|hence)\b",
    re.IGNORECASE,
)
# A sentence ending like this leads into the one after it.
LEAD_IN_ENDING = re.compile(
    r"(?::|\b(?:the\s+following|as\s+follows|these|below|said|include|including))[\"”’']*\W?$",
    re.IGNORECASE,
)


def cohesive_rows(snap: Snapshot, row: int, *, followers: bool = True) -> tuple[int, int]:
    """``row`` widened by the neighbour it leans on or leads into, and (``followers``) by the
    next sentence when that one leans on it (same paragraph only)."""
    lo = hi = row
    text = snap.text(row)
    if row - 1 >= int(snap.para_lo[row]) and DEPENDENT_OPENING.match(text):
        lo = row - 1
    if row + 1 < int(snap.para_hi[row]) and (
        LEAD_IN_ENDING.search(text) or (followers and DEPENDENT_OPENING.match(snap.text(row + 1)))
    ):
        hi = row + 1
    return lo, hi
