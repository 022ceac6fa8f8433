"""What a question asks for: the one reading of a question that every part of the answer uses.

:func:`asked` reads a question's wording once into an :class:`Asked`:

* ``kind``: the kind of fact wanted ("Who ...?" a person, "In which country ...?" a place,
  "How many ...?" a number, "Why ...?" a reason), from the first question word and the noun it
  asks about ("which *city*", "what is the *name of the band*"); None when it asks for no
  particular kind ("What did they discuss?");
* ``accepts``: the entity kinds (:mod:`index.store.entities`) that can answer it: the ranker's
  ``kind_match`` feature, the ``partial`` check and the corroboration fact check use it;
* ``form``: how such an answer is written (a date, a number, a name), for the fact check on
  text without entities;
* ``mention_kinds``: the kinds of phrase the follow-up reader looks for in a quote
  (:func:`index.dialogue.mentions.mark_answer`);
* ``latest``: whether it asks for the latest state of things ("so far", "still", "now").

The word lists here (question words, nouns for people, places, organisations ...) are the only
copies in the project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from index.corpus.text import words
from index.store.entities import (
    DATE,
    EVENT,
    GROUP,
    NUMBER,
    ORGANISATION,
    PERSON,
    PLACE,
    REASON,
    YES_NO,
)

MentionKind = Literal["person", "group", "place", "thing", "time"]
"""What a phrase in a conversation is, for pronouns ("he": a person; "it": not a person)."""
Form = Literal["date", "number", "name"]
"""How an answer is written: a date, a number, or a name (capitalised words)."""

WH_WORDS = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])
WH_TAGS = frozenset({"WP", "WDT", "WRB", "WP$"})
"""spaCy's (Penn) tags of question words."""
HOW_MUCH = frozenset(["many", "much"])


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PERSON_NOUNS = _words(
    "person people man men woman women boy girl child children king kings queen queens ruler "
    "rulers leader leaders emperor emperors president presidents minister ministers official "
    "officials politician politicians member members author authors writer writers composer "
    "composers artist artists singer singers actor actors actress player players scientist "
    "scientists philosopher general generals commander duke duchess prince princess pope bishop "
    "archbishop monarch monarchs chancellor senator governor mayor director producer founder "
    "founders inventor wife husband son daughter father mother brother sister friend teacher "
    "student students envoy envoys delegate delegates chief spokesman spokeswoman spokesperson "
    "figure individual journalist musician musicians character characters ambassador analyst "
    "boss candidate captain ceo chairman chairwoman champion citizen correspondent diplomat "
    "editor expert head judge manager negotiator officer premier prosecutor reporter secretary "
    "soldier speaker successor victim witness worker troops"
)
"""Nouns for people: "which *official*" asks for a person, and "the envoy" can be "he"."""
ORGANISATION_NOUNS = _words(
    "company companies organization organizations organisation organisations group groups team "
    "teams party parties agency agencies band bands university universities school schools "
    "college newspaper newspapers magazine network networks channel station institution "
    "institutions firm firms department ministry army navy club clubs church label corporation "
    "brand administration alliance association authorities board cabinet committee congress "
    "council delegation embassy force forces government military parliament police regime union"
)
"""Nouns for organisations and other bodies of people ("the delegation" can be "they")."""
_NOUN_KINDS: dict[str, frozenset[str]] = {
    PERSON: PERSON_NOUNS,
    PLACE: _words(
        "country countries nation nations state states city cities town towns village region "
        "regions place places continent island islands river rivers location locations area "
        "areas province provinces capital county district borough territory territories "
        "mountain mountains sea ocean lake port street neighborhood neighbourhood site venue "
        "building"
    ),
    ORGANISATION: ORGANISATION_NOUNS,
    DATE: _words(
        "year years century centuries decade decades date dates day days month months time "
        "period era season age"
    ),
    NUMBER: _words(
        "percentage percent number amount proportion fraction size population ratio rate "
        "total sum count price cost distance length height weight speed temperature range "
        "figure score toll"
    ),
    EVENT: _words(
        "event events war wars battle battles treaty treaties revolution festival ceremony "
        "celebration celebrations parade album albums song songs single film films movie "
        "movies book books novel novels opera play show series game games award awards prize "
        "title titles law act"
    ),
    GROUP: _words(
        "nationality nationalities ethnicity religion religions language languages faith "
        "tribe tribes dynasty"
    ),
}
NOUN_KIND: dict[str, str] = {noun: kind for kind, nouns in _NOUN_KINDS.items() for noun in nouns}
"""The kind of fact a noun names, for "which *city*" (a place)."""

_FORM: dict[str, Form] = {
    DATE: "date",
    NUMBER: "number",
    PERSON: "name",
    PLACE: "name",
    ORGANISATION: "name",
    EVENT: "name",
    GROUP: "name",
}
_MENTION_KINDS: dict[str, tuple[MentionKind, ...]] = {
    PERSON: ("person", "group", "place"),  # "who": a person, or a body or country acting
    PLACE: ("place",),
    ORGANISATION: ("group",),
    GROUP: ("group",),
    DATE: ("time",),
    EVENT: ("thing",),
    NUMBER: (),  # a figure is not a phrase a pronoun can refer to
    REASON: (),
    YES_NO: (),
}


@dataclass(frozen=True, slots=True)
class Asked:
    """What a question asks for (see the module docstring)."""

    kind: str | None = None
    accepts: frozenset[str] = frozenset()
    latest: bool = False
    wh: str | None = None  # the first question word, "what" ... "how"; None: none
    counted: str | None = None  # what "how many" counts: "people" in "How many people died?"

    @property
    def form(self) -> Form | None:
        """How the answer is written: a date, a number or a name (None: anything)."""
        return _FORM.get(self.kind) if self.kind else None

    @property
    def mention_kinds(self) -> tuple[MentionKind, ...]:
        """The kinds of phrase that can answer it, likeliest first: "who" a person (or a
        group or country), "where" a place, "what weapon" a thing; none for how, why, yes or
        no."""
        if self.kind in _MENTION_KINDS:
            return _MENTION_KINDS[self.kind]
        return ("thing",) if self.wh in ("what", "which") else ()


_ACCEPTS = {kind: frozenset({kind}) for kind in _FORM}
_WHO_ACCEPTS = frozenset({PERSON, ORGANISATION, GROUP})
_DO = _words("do does did can could will would should has have had may might must")
_BE = _words("is are was were")
_AUX = _DO | _BE
_HOW_NUMBER = _words("many much long old far large big tall high often fast deep wide heavy")
_SKIP = _words("the a an this that these those his her its their kind type sort of")
_STOP = _words("of in on at to for by from with as and or than that who which") | _AUX
_NAME_OF = re.compile(r"\b(?:name|names|title)\s+of\s+(?:the\s+|a\s+|an\s+|his\s+|her\s+|its\s+)?")
_WHO_IS_NAME = re.compile(
    r"\s*(?i:who\s+(?:is|was|are|were))\s+(?:(?:Mr|Mrs|Ms|Dr)\.?\s+)?(?:[A-Z][\w.'’-]*\s*)+"
    r"[?.!]*\s*$"
)
"""'Who is Sergei Shoigu?' asks what someone is (a description), not for a name."""
_REASON = re.compile(
    r"\b(?:what|which) (?:was |is |were |are )?(?:the )?(?:main )?(?:reason|reasons|cause|"
    r"causes)\b|\bfor what reason\b|\bhow come\b|\bwhat caused\b"
)
_LATEST = re.compile(
    r"\b(?:latest|most\s+recent(?:ly)?|newest|now|nowadays|currently|current|still|so\s+far|"
    r"to\s+date|as\s+of\s+(?:now|today)|up\s+to\s+now|today|this\s+week|any\s+more|anymore|"
    r"yet|recent(?:ly)?|updated?)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def asked(question: str) -> Asked:
    """What ``question`` asks for (see the module docstring).

    The first question word decides ("What were they doing when ...?" asks for a thing, not
    a date); "what" and "which" take the kind of the noun they ask about.
    """
    ws = words(question)
    latest = _LATEST.search(question) is not None
    first = next((i for i, w in enumerate(ws) if w in WH_WORDS), None)
    wh = ws[first] if first is not None else None
    kind = _kind(question, ws, first)
    if kind is None:
        return Asked(latest=latest, wh=wh)
    accepts = _WHO_ACCEPTS if wh in ("who", "whom", "whose") else _ACCEPTS.get(kind, frozenset())
    if kind == NUMBER and first is not None and ws[first + 1 : first + 2] == ["long"]:
        accepts = frozenset({NUMBER, DATE})  # "how long": a duration or a date
    return Asked(kind, accepts, latest, wh, _counted(ws, first))


def _counted(ws: list[str], first: int | None) -> str | None:
    """The noun "how many" or "how much" asks about ("people"), if the question names one."""
    if first is None or ws[first] != "how" or ws[first + 1 : first + 2] not in (["many"], ["much"]):
        return None
    rest = [w for w in ws[first + 2 :] if w not in ("more", "of", "the", "other")]
    return rest[0] if rest and rest[0] not in _AUX else None


def _kind(question: str, ws: list[str], first: int | None) -> str | None:
    """The kind of fact asked for (see :func:`asked`)."""
    if _REASON.search(" ".join(ws)):
        return REASON
    if first is None:
        return YES_NO if ws and ws[0] in _AUX else None
    wh, after = ws[first], ws[first + 1 :]
    if wh == "why":
        return REASON
    if wh == "when":
        return DATE
    if wh == "where":
        return PLACE
    if wh in ("who", "whom", "whose"):
        return None if _WHO_IS_NAME.match(question) else PERSON
    if wh == "how":
        return NUMBER if after and after[0] in _HOW_NUMBER else None
    return _asked_noun_kind(_NAME_OF.sub("", " ".join(after)).split())


def _asked_noun_kind(after: list[str]) -> str | None:
    """The kind of the noun a "what"/"which" asks about: "which *city*", "what is the *name of
    the band*", "what political *party*" (the last known noun of the phrase that follows).
    "What did they ..." asks for a thing: no kind."""
    if after and after[0] in _DO:
        return None
    if after and after[0] in _BE:
        after = after[1:]
    phrase: list[str] = []
    for w in after:
        if w in _SKIP and not phrase:
            continue
        if w in _STOP or len(phrase) == 3:
            break
        phrase.append(w)
    kinds = [NOUN_KIND[w] for w in phrase if w in NOUN_KIND]
    return kinds[-1] if kinds else None


__all__ = ["ORGANISATION_NOUNS", "PERSON_NOUNS", "WH_TAGS", "WH_WORDS", "Asked", "asked"]
