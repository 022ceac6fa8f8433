#!/usr/bin/env python3
"""Measure who-said-it: ``python -m scripts.eval_speakers [--gold data/eval/speakers.jsonl]``.

Each line of the gold file is ``{"text", "speaker", "source"}``: a sentence (or two) of news
text and the speaker it names for what it reports, or null. The speaker of each text is found
with :func:`index.rank.speakers.speakers` and compared with the gold one:

* *same speaker*: the two name the same speaker: equal, or one holds the other word for word
  ("Japanese seismologist Yuji Yagi" for "Japanese seismologist Yuji Yagi at the University of
  Tsukuba"), after lower-casing and dropping a leading "the", "a", "an", "some" or "both";
* *exact*: equal after that.

Precision is the share of the speakers found that are right; recall the share of the gold
speakers found. The texts where the two differ are listed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.rank import find_speakers

GOLD = Path("data/eval/speakers.jsonl")
_LEADING = re.compile(r"^(?:the|a|an|some|both)\s+")


@dataclass(frozen=True, slots=True)
class Labelled:
    """One gold sentence."""

    text: str
    speaker: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Scores:
    """Precision and recall, by the lenient and the exact match."""

    texts: int
    gold: int
    found: int
    right: int
    exact: int

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.gold if self.gold else 1.0

    @property
    def exact_precision(self) -> float:
        return self.exact / self.found if self.found else 1.0

    @property
    def exact_recall(self) -> float:
        return self.exact / self.gold if self.gold else 1.0


def load(path: Path) -> list[Labelled]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Labelled(r["text"], r["speaker"], r["source"]) for r in rows]


def normal(name: str) -> str:
    return _LEADING.sub("", " ".join(name.replace("’", "'").lower().split()))


def same(found: str, gold: str) -> bool:
    """Whether two names name the same speaker (see the module's docstring)."""
    a, b = f" {normal(found)} ", f" {normal(gold)} "
    return a in b or b in a


def score(gold: Sequence[Labelled], found: Sequence[str | None]) -> Scores:
    pairs = [(g.speaker, f) for g, f in zip(gold, found, strict=True)]
    right = sum(1 for g, f in pairs if g and f and same(f, g))
    exact = sum(1 for g, f in pairs if g and f and normal(f) == normal(g))
    return Scores(
        texts=len(pairs),
        gold=sum(1 for g, _ in pairs if g),
        found=sum(1 for _, f in pairs if f),
        right=right,
        exact=exact,
    )


def evaluate(path: Path = GOLD) -> tuple[Scores, list[tuple[Labelled, str | None]]]:
    """The scores on the gold file, and the texts where the speaker found differs."""
    gold = load(path)
    found = [s.name if s else None for s in find_speakers([g.text for g in gold])]
    wrong = [
        (g, f)
        for g, f in zip(gold, found, strict=True)
        if not ((g.speaker is None and f is None) or (g.speaker and f and same(f, g.speaker)))
    ]
    return score(gold, found), wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eval_speakers", description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD, help="labelled sentences (JSONL)")
    args = parser.parse_args(argv)
    scores, wrong = evaluate(args.gold)
    print(
        f"{scores.texts} texts, {scores.gold} with a speaker; {scores.found} speakers found, "
        f"{scores.right} right ({scores.exact} exactly)"
    )
    print(f"precision {scores.precision:.3f}  recall {scores.recall:.3f}")
    print(f"exact: precision {scores.exact_precision:.3f}  recall {scores.exact_recall:.3f}")
    for labelled, found in wrong:
        print(f"- gold {labelled.speaker!r}, found {found!r}: {labelled.text[:120]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
