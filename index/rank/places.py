"""Places and peoples: a country, its capital and its people's adjective stand for each other.

News writes "Moscow denied ...", "the Russian delegation" and "Russia" for one actor; a question
naming one should find sentences naming another: Beijing ↔ China ↔ Chinese, Moscow ↔ Russia ↔
Russian, Pyongyang ↔ North Korea ↔ North Korean, Washington ↔ United States ↔ American.

The names, capitals and demonyms come from the ``countryinfo`` package (MIT), not a hand-typed
table. Countries under a million people are left out: their capitals and demonyms are often
ordinary words or shared with a larger country ("Male", "Victoria", "American Samoan").
A phrase claimed by two countries goes to the more populous one.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from functools import lru_cache

from index.corpus.text import tokenize

logger = logging.getLogger(__name__)

MIN_POPULATION = 1_000_000
MAX_PHRASE = 4

Phrase = tuple[str, ...]
"""A place name as its stemmed words ("north", "korea")."""


@lru_cache(maxsize=1)
def place_groups() -> dict[Phrase, frozenset[Phrase]]:
    """Each place phrase -> the phrases of the same country (itself included)."""
    owner: dict[Phrase, tuple[int, str]] = {}
    phrases: dict[str, set[Phrase]] = {}
    for country, population, names in _countries():
        for name in names:
            phrase = tuple(tokenize(name))
            if not phrase or len(phrase) > MAX_PHRASE:
                continue
            if phrase not in owner or owner[phrase][0] < population:
                owner[phrase] = (population, country)
            phrases.setdefault(country, set()).add(phrase)
    groups: dict[Phrase, frozenset[Phrase]] = {}
    for country, found in phrases.items():
        own = frozenset(p for p in found if owner[p][1] == country)
        for phrase in own:
            groups[phrase] = own
    return groups


def _countries() -> list[tuple[str, int, list[str]]]:
    """(name, population, [name, capital, demonym, English alternative names]) per country."""
    try:
        from countryinfo import all_countries
    except ImportError:  # pragma: no cover - a dependency; without it there are no aliases
        logger.warning("countryinfo is not installed: places do not stand for their countries")
        return []
    out = []
    for country in all_countries():
        try:
            info = country.info()
        except Exception:  # a record the package cannot read is skipped
            continue
        population = int(info.get("population") or 0)
        name = str(info.get("name") or "")
        if population < MIN_POPULATION or not name:
            continue
        names = [name, str(info.get("demonym") or "")]
        capital = info.get("capital")
        capitals = capital if isinstance(capital, list) else [capital or ""]
        names += [str(c).replace("D.C.", "").strip() for c in capitals]
        names += [s for s in info.get("altSpellings") or [] if _english_name(str(s))]
        out.append((name, population, [n for n in names if n]))
    return out


def _english_name(name: str) -> bool:
    """An alternative spelling worth matching: plain ASCII words, not a bare two- or
    three-letter code ("CN", "RUS")."""
    return name.isascii() and (" " in name or len(name) > 3) and "," not in name


def related(stems: Sequence[str]) -> dict[Phrase, frozenset[Phrase]]:
    """The place phrases found in ``stems`` (a question's stemmed words, in order), each with
    the other phrases that name the same country."""
    groups = place_groups()
    found: dict[Phrase, frozenset[Phrase]] = {}
    n = len(stems)
    for size in range(MAX_PHRASE, 0, -1):
        for start in range(n - size + 1):
            phrase = tuple(stems[start : start + size])
            group = groups.get(phrase)
            if group is None or any(set(phrase) <= set(p) for p in found):
                continue
            found[phrase] = frozenset(group - {phrase})
    return found


def phrase_words(phrases: frozenset[Phrase]) -> set[str]:
    """The words of ``phrases`` that tell them apart from other places (not "north", "united",
    "republic": words many place names share)."""
    return {w for w in itertools.chain.from_iterable(phrases) if w not in _shared_words()}


@lru_cache(maxsize=1)
def _shared_words() -> frozenset[str]:
    """Words in the names of three or more countries."""
    countries: dict[str, set[frozenset[Phrase]]] = {}
    for group in set(place_groups().values()):
        for word in set(itertools.chain.from_iterable(group)):
            countries.setdefault(word, set()).add(group)
    return frozenset(w for w, found in countries.items() if len(found) >= 3)
