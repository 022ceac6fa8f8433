"""The short names articles go by in one reply: labels that tell them apart.

An article is named by its outlet; without one, by its title, and a title too long for a label
is not just cut off at the end (two titles about the same story would look alike: "Kim Jong
Un's Weapons Showcase: A Show of…" and "Kim Jong Un Showcases North Korea's Latest…"): the
words every long title of the reply shares are left out and the ones that tell the articles
apart are kept ("Show of Strength to Foreign Allies", "North Korea's Latest Weapons to Russian
Defence Chief"). Within a reply an article always has the same label. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot import wording
from bot.markup import shorten

LABEL_CHARS = 60
"""The longest an article's label (its outlet, else its title) runs in a reply."""
BRIDGE_WORDS = 2
"""Up to this many shared words between two telling ones are kept, so the label reads."""
SHORT_TELLING = 24
HEAD_WORDS = 4
"""When the telling words are shorter than :data:`SHORT_TELLING` characters ("17"), the title's
first :data:`HEAD_WORDS` words go before them ("Tamber flood death toll … 17")."""
_FILLER_WORDS = "a an the of to in on for and or with as at by from its his her their is are was"
_FILLER = frozenset(_FILLER_WORDS.split())
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


@dataclass(frozen=True, slots=True)
class Named:
    """What an article's label is made from."""

    article_id: str
    source: str | None
    title: str | None


def article_label(source: str | None, title: str | None, article_id: str) -> str:
    """An article's label on its own: its outlet, else its title (a long one by its first and
    last words: "Kim Jong Un’s Weapons … A Show of Strength to Foreign Allies"), else its id."""
    outlet = shorten(source or "", LABEL_CHARS)
    named = outlet or head_and_tail(shorten(title or "", 10 * LABEL_CHARS))
    return named or shorten(article_id, LABEL_CHARS) or wording.UNTITLED


def head_and_tail(title: str, limit: int = LABEL_CHARS) -> str:
    """``title`` within ``limit`` characters: whole, else its first words, " … " and its last
    ones (where titles about one story usually differ)."""
    if len(title) <= limit:
        return title
    words = title.split()
    head: list[str] = []
    while words and len(" ".join([*head, words[0]])) <= limit // 2:
        head.append(words.pop(0))
    tail: list[str] = []
    room = limit - len(" ".join(head)) - len(" … ")
    while words and len(" ".join([words[-1], *tail])) <= room:
        tail.insert(0, words.pop())
    if not head or not tail:
        return shorten(title, limit)
    return f"{' '.join(head)} … {' '.join(tail)}"


def reply_labels(articles: Iterable[Named]) -> dict[str, str]:
    """The label of each article of one reply, by id: the outlet, else the title; long titles
    without an outlet keep the words that tell them apart (see the module's docstring)."""
    unique: dict[str, Named] = {}
    for article in articles:
        unique.setdefault(article.article_id, article)
    labels = {a.article_id: article_label(a.source, a.title, a.article_id) for a in unique.values()}
    long = [
        a
        for a in unique.values()
        if not shorten(a.source or "", LABEL_CHARS) and len(_one_line(a.title)) > LABEL_CHARS
    ]
    if len(long) < 2:
        return labels
    titles = {a.article_id: _one_line(a.title) for a in long}
    shared = set.intersection(*(set(map(_key, t.split())) for t in titles.values()))
    for article_id, title in titles.items():
        telling = distinct_words(title, shared)
        if telling:
            labels[article_id] = shorten(telling, LABEL_CHARS)
    return labels


def distinct_words(title: str, shared: set[str]) -> str:
    """``title`` without the ``shared`` words, keeping a few between two telling ones ("Show
    of Strength to Foreign Allies"); runs apart are joined with " … "; "" when none tells."""
    words = title.split()
    telling = [i for i, w in enumerate(words) if _key(w) not in shared and _key(w) not in _FILLER]
    if not telling:
        return ""
    runs: list[list[int]] = [[telling[0]]]
    for i in telling[1:]:
        if i - runs[-1][-1] - 1 <= BRIDGE_WORDS:
            runs[-1].extend(range(runs[-1][-1] + 1, i + 1))
        else:
            runs.append([i])
    if len(" ".join(words[j] for run in runs for j in run)) < SHORT_TELLING:
        if runs[0][0] <= HEAD_WORDS:
            runs[0] = list(range(runs[0][-1] + 1))
        else:
            runs.insert(0, list(range(HEAD_WORDS)))
    return " … ".join(_tidy(" ".join(words[j] for j in run)) for run in runs)


def _key(word: str) -> str:
    """A word as compared across titles: lower case, without punctuation, a possessive or a
    plural "s" ("Showcases" and "Showcase:", "Un’s" and "Un")."""
    word = _EDGE.sub("", word.replace("’", "'").lower())
    word = word.removesuffix("'s")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _tidy(text: str) -> str:
    return text.strip(" :;,-–—|")


def _one_line(title: str | None) -> str:
    return " ".join((title or "").split())
