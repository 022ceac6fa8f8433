"""Time in answers: figures that differ, and the newest coverage first.

Whether a question asks for the latest state of things ("What is the latest death toll?", "Is
the bridge still closed?") is :attr:`index.dialogue.asks.Asked.latest`.

* :func:`figures` and :func:`figures_differ`: two sentences that say the same thing with
  different numbers ("rose to 45" against "at least 52 people") disagree; they are not
  corroboration, and both are quoted with their dates;
* :func:`newest_candidates`: the order in which eligible candidates are offered when the question
  asks for the latest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.types import published_day

__all__ = ["figures", "figures_differ", "newest_candidates"]

_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
    r"(?:\s*(thousand|million|billion|trillion|bn|m|k)\b)?(\s*(?:%|per\s*cent|percent))?",
    re.IGNORECASE,
)
_SCALE = {"thousand": 10**3, "k": 10**3, "million": 10**6, "m": 10**6}
_SCALE |= {"billion": 10**9, "bn": 10**9, "trillion": 10**12}


def figures(text: str) -> frozenset[str]:
    """The numbers ``text`` states, normalised ("1,200" and "1.2 thousand" are "1200"; a
    percentage keeps its sign: "5%"). Ordinal-looking words and digits inside words are not
    figures."""
    out: set[str] = set()
    for match in _NUMBER.finditer(text):
        whole, fraction, scale, percent = match.groups()
        value = float(whole.replace(",", "") + (f".{fraction}" if fraction else ""))
        if scale:
            value *= _SCALE[scale.lower()]
        number = f"{value:.6f}".rstrip("0").rstrip(".")
        out.add(number + ("%" if percent else ""))
    return frozenset(out)


def figures_differ(a: str, b: str) -> bool:
    """Whether two sentences both state figures and have none in common (a disagreement,
    such as two outlets giving different tolls)."""
    fa, fb = figures(a), figures(b)
    return bool(fa) and bool(fb) and fa.isdisjoint(fb)


def newest_candidates(days: Sequence[str | None], scores: Sequence[float]) -> list[int]:
    """Indices of candidates, newest article first (undated last), better score first within
    a day."""
    by_score = sorted(range(len(scores)), key=lambda i: -scores[i])
    dated = [i for i in by_score if published_day(days[i])]
    dated.sort(key=lambda i: published_day(days[i]), reverse=True)  # stable: score order stays
    return dated + [i for i in by_score if not published_day(days[i])]
