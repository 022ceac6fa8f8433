"""Time in answers: figures that differ, and the newest coverage first.

Whether a question asks for the latest state of things ("What is the latest death toll?", "Is
the bridge still closed?") is :attr:`index.dialogue.asks.Asked.latest`.

* :func:`figures` and :func:`figures_differ`: two sentences that say the same thing with
  different numbers ("rose to 45" against "at least 52 people") disagree; they are not
  corroboration, and both are quoted with their dates;
* :func:`figure_for`: the number a sentence gives for what a question counts ("Only 240
  people are still in shelters, down from a peak of 1,500": 240 people), for the reply's
  "Figures differ" line;
* :func:`newest_candidates`: the order in which eligible candidates are offered when the
  question asks for the latest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.types import published_day

__all__ = ["figure_for", "figures", "figures_differ", "newest_candidates"]

_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
    r"(?:\s*(thousand|million|billion|trillion|bn|m|k)\b)?(\s*(?:%|per\s*cent|percent))?",
    re.IGNORECASE,
)
_SCALE = {"thousand": 10**3, "k": 10**3, "million": 10**6, "m": 10**6}
_SCALE |= {"billion": 10**9, "bn": 10**9, "trillion": 10**12}
_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUE = {w: i for i, w in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_WORD_NUMBER = re.compile(
    rf"\b(?P<tens>{'|'.join(_TENS)})(?:[- ](?P<unit>{'|'.join(_UNITS[1:10])}))?\b"
    rf"|\b(?P<word>{'|'.join(_UNITS)})\b",
    re.IGNORECASE,
)
"""A number written in words, up to ninety-nine ("Twelve", "forty-two"); "one" too, which
news uses as a pronoun as often as a count, so a figure is only taken where a count is
asked for."""


def figures(text: str) -> frozenset[str]:
    """The numbers ``text`` states, normalised ("1,200" and "1.2 thousand" are "1200"; a
    percentage keeps its sign: "5%"). Ordinal-looking words and digits inside words are not
    figures."""
    return frozenset(_normalised(match) for match in _NUMBER.finditer(text))


def figure_for(text: str, counted: str | None) -> str | None:
    """The number ``text`` gives for what a question counts: the one right before the counted
    noun ("240 people"), else the first number it states; digits or words, normalised ("Twelve":
    "12"). None when it states no number."""
    found = _numbers(text)
    if not found:
        return None
    if counted:
        after = re.compile(rf"^\W*(?:\w+\W+)?{re.escape(counted[:5])}", re.IGNORECASE)
        for end, value in found:
            if after.match(text[end:]):
                return value
    return found[0][1]


def _numbers(text: str) -> list[tuple[int, str]]:
    """Every number ``text`` states, in order: where it ends, and its normalised value."""
    out: list[tuple[int, int, str]] = []
    for match in _NUMBER.finditer(text):
        out.append((match.start(), match.end(), _normalised(match)))
    for match in _WORD_NUMBER.finditer(text):
        if match.group("word") and match.group("word").lower() in ("one", "zero"):
            continue  # "one of the ...": rarely a count
        value = _WORD_VALUE[(match.group("tens") or match.group("word")).lower()]
        value += _WORD_VALUE.get((match.group("unit") or "").lower(), 0)
        out.append((match.start(), match.end(), str(value)))
    return [(end, value) for _, end, value in sorted(out)]


def _normalised(match: re.Match[str]) -> str:
    whole, fraction, scale, percent = match.groups()
    value = float(whole.replace(",", "") + (f".{fraction}" if fraction else ""))
    if scale:
        value *= _SCALE[scale.lower()]
    return f"{value:.6f}".rstrip("0").rstrip(".") + ("%" if percent else "")


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
