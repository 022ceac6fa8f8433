"""Example questions for /start: questions the corpus answers, checked by answering them.

Candidates are made from the first articles' titles (:func:`example_question`) and from the
names the coverage mentions most (:func:`frequent_names`); each is asked, and only those that
get an answer are offered. :class:`ExampleQuestions` keeps them per index version.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from index.snapshot import Snapshot
from index.types import Answer

logger = logging.getLogger(__name__)

_NAME_RE = re.compile(r"(?<=[a-z,;:] )(?:[A-Z][a-z]+(?: (?:[A-Z][a-z]+|of|de|von|al))*)")


class ExampleQuestions:
    """The example questions of each index version, found once by asking ``answer``."""

    def __init__(self, answer: Callable[[str], Answer]) -> None:
        self._answer = answer
        self._cache: dict[str, list[str]] = {}  # build id -> questions found

    def get(self, snap: Snapshot, n: int = 3) -> list[str]:
        """Up to ``n`` questions that ``snap`` answers ([] while search is unavailable)."""
        cached = self._cache.get(snap.build_id)
        if cached is not None and len(cached) >= n:
            return cached[:n]
        out: list[str] = []
        titles = sorted((example_question(a.title) for a in snap.articles[: 2 * n + 2]), key=len)
        names = [f"What does the coverage say about {name}?" for name in frequent_names(snap)]
        for question in [*titles, *names]:
            if not question or question in out:
                continue
            try:
                answer = self._answer(question)
            except Exception:  # an example is a nicety; never fail /start for it
                logger.debug("example question %r failed", question, exc_info=True)
                continue
            if answer.kind == "unavailable":
                return out  # search is down: try again later, remember nothing
            if not answer.answered:
                continue
            out.append(question)
            if len(out) >= n:
                break
        self._cache[snap.build_id] = out
        return out


def example_question(title: str) -> str:
    """A question about an article from its title: "What does the coverage say about <title>?".

    The title is cut at its first ": " when the part before has three words or more (" – ",
    " — ", " - " and " | " are tried only when that part is shorter); then at most twelve words
    are kept, without end punctuation. "" when nothing is left.
    """
    title = " ".join(title.split())
    for separator in (": ", " – ", " — ", " - ", " | "):
        head = title.split(separator, 1)[0]
        if len(head.split()) >= 3:
            title = head
            break
    title = title.rstrip(" .:;!?")
    if not title:
        return ""
    words = title.split()
    if len(words) > 12:
        title = " ".join(words[:12])
    return f"What does the coverage say about {title}?"


def frequent_names(snap: Snapshot, limit: int = 6, sample: int = 400) -> list[str]:
    """Capitalised names (not at a sentence start) used most often in the first sentences."""
    counts: dict[str, int] = {}
    for row in range(min(sample, len(snap))):
        for match in _NAME_RE.finditer(snap.text(row)):
            name = match.group(0)
            if len(name.split()) >= 2 and name.split()[-1] not in {"of", "de", "von", "al"}:
                counts[name] = counts.get(name, 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    return [name for name in ranked if counts[name] >= 2][:limit]
